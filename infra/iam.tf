# ---------------------------------------------------------------- EMR Serverless job execution role
# Least privilege: the lake's own prefixes, the source bucket's source prefixes (read only), the named
# secrets, the platform key. No Glue (Delta tables are addressed by path), no wildcard buckets.

data "aws_iam_policy_document" "emr_job_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_emrserverless_application.spark.arn]
    }
  }
}

resource "aws_iam_role" "emr_job" {
  name               = "coretelecoms-emr-job"
  assume_role_policy = data.aws_iam_policy_document.emr_job_trust.json
}

data "aws_iam_policy_document" "emr_job" {
  statement {
    sid       = "ListLakePrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for p in local.lake_prefixes : [trimsuffix(p, "/"), "${p}*"]])
    }
  }
  statement {
    sid       = "ReadWriteLakeLayers"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for p in local.lake_prefixes : "${local.lake_arn}/${p}*"]
  }
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${local.lake_arn}/${local.artifacts_path}*"]
  }
  statement {
    sid       = "WriteJobLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.lake_arn}/${local.emr_logs_path}*"]
  }
  statement {
    sid       = "ListSourcePrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.source_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for p in var.source_prefixes : [trimsuffix(p, "/"), "${p}*"]])
    }
  }
  statement {
    sid       = "ReadSources"
    actions   = ["s3:GetObject"]
    resources = [for p in var.source_prefixes : "${local.source_arn}/${p}*"]
  }
  statement {
    sid       = "ReadNamedSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for s in aws_secretsmanager_secret.platform : s.arn]
  }
  statement {
    sid       = "UsePlatformKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.platform.arn]
  }
}

resource "aws_iam_role_policy" "emr_job" {
  name   = "lake-sources-secrets"
  role   = aws_iam_role.emr_job.id
  policy = data.aws_iam_policy_document.emr_job.json
}

# ---------------------------------------------------------------- Step Functions

data "aws_iam_policy_document" "sfn_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "sfn" {
  name               = "coretelecoms-daily-state-machine"
  assume_role_policy = data.aws_iam_policy_document.sfn_trust.json
}

data "aws_iam_policy_document" "sfn" {
  statement {
    sid       = "RunJobsOnTheApplication"
    actions   = ["emr-serverless:StartJobRun"]
    resources = [aws_emrserverless_application.spark.arn]
  }
  statement {
    sid       = "FollowAndCancelItsJobRuns"
    actions   = ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun", "emr-serverless:GetDashboardForJobRun"]
    resources = ["${aws_emrserverless_application.spark.arn}/jobruns/*"]
  }
  statement {
    sid       = "PassTheJobRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_job.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }
  statement {
    sid     = "SyncIntegrationManagedRule"
    actions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = [
      "arn:${local.partition}:events:${var.region}:${local.account_id}:rule/StepFunctionsGetEventsForEMRServerlessJobRule",
    ]
  }
  statement {
    sid       = "NotifyFailures"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "EncryptedTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }
}

resource "aws_iam_role_policy" "sfn" {
  name   = "run-daily-chain"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn.json
}

# CloudWatch Logs vended delivery and X-Ray have no resource-level permissions: AWS documents "*" for them.
data "aws_iam_policy_document" "sfn_observability" {
  statement {
    sid = "VendedLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "sfn_observability" {
  name   = "logs-and-traces"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn_observability.json
}

# ---------------------------------------------------------------- EventBridge Scheduler

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "coretelecoms-daily-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartTheDailyChain"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.daily.arn]
  }
  statement {
    sid       = "DecryptTheSchedule"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-daily-chain"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# ---------------------------------------------------------------- Snowflake storage integration
# Snowflake assumes this role to read the published Parquet under _publish/ (the external stage). Its ARN is
# fixed by name because the integration must know it before the role can trust the integration's user.

data "aws_iam_policy_document" "snowflake_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [snowflake_storage_integration.lake.storage_aws_iam_user_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [snowflake_storage_integration.lake.storage_aws_external_id]
    }
  }
}

resource "aws_iam_role" "snowflake_stage" {
  name               = local.snowflake_role
  assume_role_policy = data.aws_iam_policy_document.snowflake_trust.json
}

data "aws_iam_policy_document" "snowflake_stage" {
  statement {
    sid       = "ReadPublishedFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.lake_arn}/${local.publish_prefix}*"]
  }
  statement {
    sid       = "ListPublishedFiles"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [trimsuffix(local.publish_prefix, "/"), "${local.publish_prefix}*"]
    }
  }
  statement {
    sid       = "DecryptPublishedFiles"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }
}

resource "aws_iam_role_policy" "snowflake_stage" {
  name   = "read-publish-prefix"
  role   = aws_iam_role.snowflake_stage.id
  policy = data.aws_iam_policy_document.snowflake_stage.json
}
