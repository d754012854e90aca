"""spark-submit entry point for the silver layer: `spark-submit.sh silver --date YYYY-MM-DD`."""

import sys

from coretelecoms.job import main

if __name__ == "__main__":
    sys.exit(main("silver"))
