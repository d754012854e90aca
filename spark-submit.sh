#!/usr/bin/env bash
# spark-submit.sh [--dry-run] <layer> [job args…] — run jobs/<layer>.py through spark-submit.
# Locally it uses the pyspark wheel's spark-submit from .venv; on a cluster (CORETELECOMS_ENV=emr, or any env
# other than local) the cluster's spark-submit, with the Delta jars and Spark settings of conf/<env>.yaml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LAYERS="landing bronze silver gold publish maintenance"

usage() {
  local layer state
  cat <<USAGE
usage: spark-submit.sh [--dry-run] <layer> [--date YYYY-MM-DD | --start D --end D] [--env ENV]

Runs jobs/<layer>.py with spark-submit (maintenance needs no date). Layers, in daily order:
USAGE
  for layer in $LAYERS; do
    if [ -f "$here/jobs/$layer.py" ]; then state="jobs/$layer.py"; else state="(not built yet: no jobs/$layer.py)"; fi
    printf '  %-12s %s\n' "$layer" "$state"
  done
  cat <<USAGE

Modes (CORETELECOMS_ENV picks conf/<env>.yaml):
  local (default)  local[*] with the pyspark wheel's spark-submit from .venv (or PATH), delta-rs for Delta,
                   driver memory CORETELECOMS_DRIVER_MEMORY (default 6g).
  emr / other      cluster mode: the cluster's spark-submit from PATH, plus --jars and --conf read from
                   conf/<env>.yaml by the project's settings loader (spark.delta_jars, Delta extensions,
                   spark.shuffle_partitions, spark.conf), and --env <env> passed to the job.
                   CORETELECOMS_SPARK_MASTER / CORETELECOMS_DEPLOY_MODE set --master / --deploy-mode;
                   CORETELECOMS_PYTHON is the interpreter that has the project installed (default .venv, python3).

Options and variables:
  --dry-run, CORETELECOMS_DRY_RUN=1   print the spark-submit command instead of running it
  SPARK_SUBMIT_OPTS_EXTRA             extra spark-submit options, e.g. "--conf spark.executor.memory=8g"

Exit status: the job's (non-zero on failure); 2 for an unknown layer, a layer not built yet, or bad settings.
USAGE
}

dry_run=${CORETELECOMS_DRY_RUN:-0}
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1; shift ;;
    *) break ;;
  esac
done

layer=${1:-}
if [ -z "$layer" ]; then usage >&2; exit 2; fi
shift
case " $LAYERS " in
  *" $layer "*) ;;
  *) echo "spark-submit.sh: unknown layer '$layer' (choose from: $LAYERS)" >&2; exit 2 ;;
esac
job="$here/jobs/$layer.py"
[ -f "$job" ] || { echo "spark-submit.sh: the $layer layer is not built yet (no jobs/$layer.py)" >&2; exit 2; }

env_name=${CORETELECOMS_ENV:-local}
opts=(--name "coretelecoms-$layer")
job_args=("$@")
if [ "$env_name" = "local" ]; then
  if [ -x "$here/.venv/bin/spark-submit" ]; then submit="$here/.venv/bin/spark-submit"; else submit=$(command -v spark-submit || echo spark-submit); fi
  py="$here/.venv/bin/python"; [ -x "$py" ] || py=$(command -v python3 || echo python3)
  export PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py"
  opts+=(--master "local[*]" --driver-memory "${CORETELECOMS_DRIVER_MEMORY:-6g}"
         --conf spark.ui.enabled=false --conf spark.sql.session.timeZone=UTC)
else
  submit=$(command -v spark-submit || echo spark-submit)
  py=${CORETELECOMS_PYTHON:-}
  if [ -z "$py" ]; then
    py="$here/.venv/bin/python"; [ -x "$py" ] || py=$(command -v python3 || echo python3)
  fi
  # The Delta jars and Spark settings come from conf/<env>.yaml through the project's own loader.
  if ! settings_out=$(CORETELECOMS_ENV="$env_name" "$py" -m coretelecoms.deploy.sparkconf --env "$env_name"); then
    echo "spark-submit.sh: cannot read the Spark settings of conf/$env_name.yaml with $py" >&2
    exit 2
  fi
  mapfile -t cluster_opts <<<"$settings_out"
  [ -n "${CORETELECOMS_SPARK_MASTER:-}" ] && opts+=(--master "$CORETELECOMS_SPARK_MASTER")
  [ -n "${CORETELECOMS_DEPLOY_MODE:-}" ] && opts+=(--deploy-mode "$CORETELECOMS_DEPLOY_MODE")
  [ -n "$settings_out" ] && opts+=("${cluster_opts[@]}")
  # The driver may run on another host (deploy mode cluster), so the settings name travels as an argument.
  case " ${job_args[*]:-} " in
    *" --env "* | *" --env="*) ;;
    *) job_args+=(--env "$env_name") ;;
  esac
fi
# shellcheck disable=SC2206
extra=(${SPARK_SUBMIT_OPTS_EXTRA:-})
cmd=("$submit" "${opts[@]}" "${extra[@]}" "$job" "${job_args[@]}")
if [ "$dry_run" = "1" ]; then
  printf '%q ' "${cmd[@]}"
  printf '\n'
  exit 0
fi
exec "${cmd[@]}"
