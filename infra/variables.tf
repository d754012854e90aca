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

variable "vpc_id" {
  description = "An existing VPC for the jobs; empty = Terraform creates one (network.tf: private subnets, NAT, endpoints)."
  type        = string
  default     = ""
}

variable "vpc_cidr" {
  description = "Address range of the VPC Terraform creates (unused with vpc_id): two private /20s and one public /20 for the NAT."
  type        = string
  default     = "10.42.0.0/16"
}

variable "emr_subnet_ids" {
  description = "With vpc_id only: the private subnets (with a NAT route to the internet) the jobs run in."
  type        = list(string)
  default     = []
}

variable "postgres_security_group_id" {
  description = "Security group of the source RDS when it is in this VPC or a peered one: the jobs may open Postgres to it."
  type        = string
  default     = ""
}

variable "postgres_cidr_blocks" {
  description = "Addresses of the source Postgres when it is reached through the NAT (another account, no peering), e.g. [\"203.0.113.10/32\"]."
  type        = list(string)
  default     = []
}

variable "postgres_port" {
  description = "Port of the source Postgres."
  type        = number
  default     = 5432
}

variable "delta_commit_table_name" {
  description = "DynamoDB table of delta-spark's S3DynamoDBLogStore (conf/emr.yaml lake.commit_table): one writer wins each Delta commit on S3."
  type        = string
  default     = "coretelecoms-delta-log"
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
