"""spark-submit entry point for the publish layer: `spark-submit.sh publish --date YYYY-MM-DD`."""

import sys

from coretelecoms.job import main

if __name__ == "__main__":
    sys.exit(main("publish"))
