# The secrets exist here; their values never do. Set them out of band, e.g.
#   aws secretsmanager put-secret-value --secret-id coretelecoms/postgres-dsn --secret-string file://dsn.txt
# conf/emr.yaml refers to them by ARN (outputs.secret_arns).
resource "aws_secretsmanager_secret" "platform" {
  #checkov:skip=CKV2_AWS_57:These are credentials issued by other parties (the source Postgres owner, Google, the Snowflake key pair registered on the loader user); they rotate on those systems and are then written here, so no rotation Lambda applies.
  for_each                = toset(local.secret_names)
  name                    = each.value
  description             = "CoreTelecoms: ${each.value} (value set out of band, never in code)"
  kms_key_id              = aws_kms_key.platform.arn
  recovery_window_in_days = 7
}
