"""spark-submit entry point of the cluster's first-run check: `coretelecoms emr smoke` submits it."""

import sys

from coretelecoms.job import smoke_main

if __name__ == "__main__":
    sys.exit(smoke_main())
