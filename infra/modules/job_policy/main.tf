# The EMR job execution role's policy as JSON, from ARNs and prefixes only. A module without providers or
# resources, so tests/deploy/test_deploy_iam.py renders this very policy offline (terraform apply of this
# folder) and enforces it on moto's IAM for every job's S3, Secrets Manager and DynamoDB calls.
#
# Least privilege: the lake's own prefixes (listing included: the code lists tables layer by layer, never the
# bucket root), the source bucket's source prefixes read only, the named secrets, the platform key and the
# Delta commit table. No wildcard action, no Glue (the jobs run on Spark's in-memory catalog and address
# Delta tables by path, lib/coretelecoms/deploy/sparkconf.py).

variable "lake_arn" {
  description = "arn:aws:s3:::<lake bucket>"
  type        = string
}

variable "lake_prefixes" {
  description = "Prefixes under the lake root the jobs read and write (each ends with /)."
  type        = list(string)
}

variable "artifacts_path" {
  description = "Prefix of jobs/, the wheel and venv.tar.gz (read only)."
  type        = string
}

variable "emr_logs_path" {
  description = "Prefix EMR Serverless writes the job logs to."
  type        = string
}

variable "source_arn" {
  description = "arn:aws:s3:::<source bucket>"
  type        = string
}

variable "source_prefixes" {
  description = "Prefixes of the source bucket the jobs read."
  type        = list(string)
}

variable "secret_arns" {
  description = "The Secrets Manager secrets the jobs read."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The platform key (lake objects, secrets)."
  type        = string
}

variable "commit_table_arn" {
  description = "DynamoDB table of delta-spark's S3DynamoDBLogStore."
  type        = string
}

locals {
  statements = [
    {
      Sid       = "ListLakePrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = [var.lake_arn]
      Condition = { StringLike = { "s3:prefix" = flatten([for p in var.lake_prefixes : [trimsuffix(p, "/"), "${p}*"]]) } }
    },
    {
      Sid      = "ReadWriteLakeLayers"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      Resource = [for p in var.lake_prefixes : "${var.lake_arn}/${p}*"]
    },
    {
      Sid      = "ReadArtifacts"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${var.lake_arn}/${var.artifacts_path}*"]
    },
    {
      Sid      = "WriteJobLogs"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${var.lake_arn}/${var.emr_logs_path}*"]
    },
    {
      Sid       = "ListSourcePrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = [var.source_arn]
      Condition = { StringLike = { "s3:prefix" = flatten([for p in var.source_prefixes : [trimsuffix(p, "/"), "${p}*"]]) } }
    },
    {
      Sid      = "ReadSources"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = [for p in var.source_prefixes : "${var.source_arn}/${p}*"]
    },
    {
      Sid      = "ReadNamedSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.secret_arns
    },
    {
      Sid      = "UsePlatformKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
    },
    {
      # What S3DynamoDBLogStore calls: DescribeTable when it starts, PutItem (conditional) to claim a commit,
      # GetItem/Query to find the latest one. No CreateTable: the table is Terraform's (dynamodb.tf).
      Sid      = "DeltaCommitLock"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
      Resource = [var.commit_table_arn]
    },
  ]
}

output "json" {
  description = "The policy document."
  value       = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}
