"""spark-submit entry point for bronze: `spark-submit jobs/bronze.py --date YYYY-MM-DD [--env emr]`.

Lands the day's deliveries, ingests the five sources, prints one line per source and exits non-zero
when a source failed. `--start/--end` runs the dates in order.
"""

import sys

from coretelecoms.job import main

if __name__ == "__main__":
    sys.exit(main("bronze"))
