#!/usr/bin/env bash
# spark-submit.sh <layer> [job args…] — run jobs/<layer>.py through spark-submit.
# Locally it uses the pyspark wheel's spark-submit from .venv; on a cluster (CORETELECOMS_ENV=emr) the
# cluster's spark-submit, with the Delta jars EMR bundles.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<USAGE
usage: spark-submit.sh <layer> [--date YYYY-MM-DD | --start D --end D] [--env ENV]

layers: $(ls "$here/jobs" | sed -n 's/\.py$//p' | tr '\n' ' ')

  CORETELECOMS_ENV=local (default)  local[*] with the pyspark wheel in .venv, delta-rs for Delta
  CORETELECOMS_ENV=emr              the cluster's spark-submit, delta-spark jars from /usr/share/aws/delta/lib
Extra spark-submit options go in SPARK_SUBMIT_OPTS_EXTRA, e.g. "--conf spark.executor.memory=8g".
USAGE
}

layer=${1:-}
if [ -z "$layer" ] || [ "$layer" = "-h" ] || [ "$layer" = "--help" ]; then usage; exit 0; fi
shift
job="$here/jobs/$layer.py"
[ -f "$job" ] || { echo "spark-submit.sh: no job for layer '$layer'" >&2; usage >&2; exit 2; }

env_name=${CORETELECOMS_ENV:-local}
opts=(--name "coretelecoms-$layer")
if [ "$env_name" = "emr" ]; then
  submit=$(command -v spark-submit)
  jars=/usr/share/aws/delta/lib/delta-spark.jar,/usr/share/aws/delta/lib/delta-storage.jar
  opts+=(--jars "$jars"
         --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension
         --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog)
else
  if [ -x "$here/.venv/bin/spark-submit" ]; then submit="$here/.venv/bin/spark-submit"; else submit=$(command -v spark-submit); fi
  py="$here/.venv/bin/python"; [ -x "$py" ] || py=$(command -v python3)
  export PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py"
  opts+=(--master "local[*]" --driver-memory "${CORETELECOMS_DRIVER_MEMORY:-6g}"
         --conf spark.ui.enabled=false --conf spark.sql.session.timeZone=UTC)
fi
# shellcheck disable=SC2206
extra=(${SPARK_SUBMIT_OPTS_EXTRA:-})
exec "$submit" "${opts[@]}" "${extra[@]}" "$job" "$@"
