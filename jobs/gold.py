"""spark-submit entry point for the gold layer: `spark-submit.sh gold --date YYYY-MM-DD`."""

import sys

from coretelecoms.job import main

if __name__ == "__main__":
    sys.exit(main("gold"))
