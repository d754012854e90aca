variable "region" {
  description = "AWS region of the lake, EMR Serverless and the schedule (conf/emr.yaml emr.region)."
  type        = string
  default     = "eu-west-2"
}

variable "lake_bucket_name" {
  description = "The lake bucket (conf/emr.yaml lake.root without s3://)."
  type        = string
  default     = "coretelecoms-lake"
}

variable "source_bucket_name" {
  description = "The source systems' bucket, owned by another account: read only."
  type        = string
  default     = "core-telecoms-data-lake"
}

variable "source_prefixes" {
  description = "Prefixes of the source bucket the jobs read (SOURCES.md)."
  type        = list(string)
  default     = ["customers/", "call logs/", "social_medias/"]
}

variable "alert_email" {
  description = "Who receives pipeline failure notifications (confirm the subscription e-mail once)."
  type        = string
}

variable "emr_release_label" {
  description = "EMR Serverless release: emr-spark-8.2.0 (LTS) runs Spark 4.1.3 and Delta 4.2.0, the versions the project pins; the Delta jars are under /usr/share/aws/delta/lib."
  type        = string
  default     = "emr-spark-8.2.0"
}

variable "emr_image_uri" {
  description = "ECR URI of docker/emr/Dockerfile for emr.python: image; empty runs the stock image + venv.tar.gz."
  type        = string
  default     = ""
}

variable "emr_max_cpu" {
  description = "Maximum capacity of the application: vCPU across all running jobs."
  type        = string
  default     = "32 vCPU"
}

variable "emr_max_memory" {
  description = "Maximum capacity of the application: memory across all running jobs."
  type        = string
  default     = "128 GB"
}

variable "emr_idle_timeout_minutes" {
  description = "Auto-stop: minutes of idleness before the application releases its capacity."
  type        = number
  default     = 15
}

variable "emr_subnet_ids" {
  description = "Private subnets (with a NAT route) for jobs that reach Postgres, Google and Snowflake; empty = no VPC."
  type        = list(string)
  default     = []
}

variable "emr_security_group_ids" {
  description = "Security groups of the jobs when emr_subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "schedule_expression" {
  description = "When the daily run starts (UTC); it processes the previous day (coretelecoms.deploy.schedule)."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "log_retention_days" {
  description = "Days the EMR job logs (S3) and the Step Functions log group are kept."
  type        = number
  default     = 365
}

variable "snowflake_admin_role" {
  description = "Snowflake role terraform runs as (creates the integration, so ACCOUNTADMIN or a delegate)."
  type        = string
  default     = "ACCOUNTADMIN"
}

variable "snowflake_database" {
  description = "conf/emr.yaml warehouse.database"
  type        = string
  default     = "CORETELECOMS_DW"
}

variable "snowflake_schema" {
  description = "conf/emr.yaml warehouse.schema"
  type        = string
  default     = "ANALYTICS"
}

variable "snowflake_warehouse" {
  description = "conf/emr.yaml warehouse.warehouse"
  type        = string
  default     = "CORETELECOMS_XS"
}
