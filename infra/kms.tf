# One customer-managed key for the platform's data at rest: lake objects, secrets, the alert topic and the
# Step Functions log group. Services get only what they need, scoped to this account.
data "aws_iam_policy_document" "platform_key" {
  #checkov:skip=CKV_AWS_111:A KMS key policy, not an IAM policy: Resource "*" is this key alone, and the service statements are bound to this account.
  #checkov:skip=CKV_AWS_356:A KMS key policy: "*" is the only valid Resource and means this key.
  #checkov:skip=CKV_AWS_109:kms:* for the account root is AWS's default key-policy statement that hands access control to IAM, where the roles above are least-privilege; without it the key becomes unmanageable.
  statement {
    sid       = "AccountAdministersTheKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "EventBridgePublishesToTheEncryptedTopic"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheStateMachineLog"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "platform" {
  description             = "CoreTelecoms lakehouse: lake objects, secrets, alerts and logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.platform_key.json
}

resource "aws_kms_alias" "platform" {
  name          = "alias/coretelecoms"
  target_key_id = aws_kms_key.platform.key_id
}
