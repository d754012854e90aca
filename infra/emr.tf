# The Spark application every job runs on. It starts on the first job run and stops after
# var.emr_idle_timeout_minutes idle; maximum capacity caps what all running jobs can use together.
resource "aws_emrserverless_application" "spark" {
  name          = "coretelecoms"
  release_label = var.emr_release_label
  type          = "spark"

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.emr_idle_timeout_minutes
  }

  maximum_capacity {
    cpu    = var.emr_max_cpu
    memory = var.emr_max_memory
  }

  dynamic "image_configuration" {
    for_each = var.emr_image_uri == "" ? [] : [var.emr_image_uri]
    content {
      image_uri = image_configuration.value
    }
  }

  # Every job runs in the private subnets behind the jobs' security group (network.tf): landing reaches
  # Postgres and Google, publish reaches Snowflake, through the NAT; AWS services through the endpoints.
  network_configuration {
    subnet_ids         = local.job_subnet_ids
    security_group_ids = [aws_security_group.jobs.id]
  }
}
