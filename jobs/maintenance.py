"""spark-submit entry point for maintenance: `spark-submit.sh maintenance [--date YYYY-MM-DD] [--env emr]`.

Compacts (z-order where configured) and vacuums every Delta table of the lake; needs no date (one given is
kept in the ledger, as EMR job runs do).
"""

import sys

from coretelecoms.job import main

if __name__ == "__main__":
    sys.exit(main("maintenance"))
