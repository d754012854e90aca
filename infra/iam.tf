# ---------------------------------------------------------------- EMR Serverless job execution role
# Least privilege, one role for every job (landing, bronze, silver, gold, publish, maintenance, erasure, smoke):
# the policy is modules/job_policy, which a test renders and enforces on moto's IAM for each job's calls.

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

module "job_policy" {
  source           = "./modules/job_policy"
  lake_arn         = local.lake_arn
  lake_prefixes    = local.lake_prefixes
  artifacts_path   = local.artifacts_path
  emr_logs_path    = local.emr_logs_path
  source_arn       = local.source_arn
  source_prefixes  = var.source_prefixes
  secret_arns      = [for s in aws_secretsmanager_secret.platform : s.arn]
  kms_key_arn      = aws_kms_key.platform.arn
  commit_table_arn = aws_dynamodb_table.delta_log.arn
}

resource "aws_iam_role_policy" "emr_job" {
  name   = "lake-sources-secrets"
  role   = aws_iam_role.emr_job.id
  policy = module.job_policy.json
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
