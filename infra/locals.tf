locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  lake_arn   = "arn:${local.partition}:s3:::${var.lake_bucket_name}"
  source_arn = "arn:${local.partition}:s3:::${var.source_bucket_name}"

  # What the jobs read and write under the lake root: one prefix per layer plus the platform's own folders.
  lake_prefixes  = ["landing/", "bronze/", "silver/", "gold/", "_ops/", "_checkpoints/", "_quality/", "_publish/"]
  artifacts_path = "_artifacts/"
  emr_logs_path  = "_logs/emr/"
  publish_prefix = "_publish/"
  artifacts_uri  = "s3://${var.lake_bucket_name}/_artifacts"
  logs_uri       = "s3://${var.lake_bucket_name}/_logs/emr"
  stage_url      = "s3://${var.lake_bucket_name}/${local.publish_prefix}"
  secret_names   = ["coretelecoms/postgres-dsn", "coretelecoms/gsheets-service-account", "coretelecoms/snowflake-key"]
  state_machine  = "coretelecoms-daily"
  snowflake_role = "coretelecoms-snowflake-stage"
  snowflake_iam  = "arn:${local.partition}:iam::${local.account_id}:role/${local.snowflake_role}"
}
