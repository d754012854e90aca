# What conf/emr.yaml (or CORETELECOMS__EMR__* variables) needs after `terraform apply`.
output "emr_application_id" {
  description = "emr.application_id"
  value       = aws_emrserverless_application.spark.id
}

output "emr_execution_role_arn" {
  description = "emr.execution_role_arn"
  value       = aws_iam_role.emr_job.arn
}

output "artifacts_uri" {
  description = "emr.artifacts_uri: where `coretelecoms emr package --upload` puts jobs/, the wheel and venv.tar.gz"
  value       = local.artifacts_uri
}

output "logs_uri" {
  description = "emr.logs_uri"
  value       = local.logs_uri
}

output "state_machine_arn" {
  description = "Start a run by hand: aws stepfunctions start-execution --state-machine-arn … --input '{\"date\":\"YYYY-MM-DD\"}'"
  value       = aws_sfn_state_machine.daily.arn
}

output "alerts_topic_arn" {
  description = "SNS topic of failure notifications"
  value       = aws_sns_topic.alerts.arn
}

output "secret_arns" {
  description = "Secrets to fill out of band and reference in conf/emr.yaml"
  value       = { for name, s in aws_secretsmanager_secret.platform : name => s.arn }
}

output "snowflake_stage" {
  description = "warehouse.external_stage"
  value       = "${snowflake_database.dw.name}.${snowflake_schema.analytics.name}.${snowflake_stage.lake.name}"
}
