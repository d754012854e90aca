# Providers are downloaded by `terraform init` on the operator's machine; nothing here holds a credential:
# AWS comes from the usual credential chain, Snowflake from SNOWFLAKE_* environment variables.
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
    snowflake = {
      source  = "snowflakedb/snowflake"
      version = "~> 2.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project    = "coretelecoms"
      managed_by = "terraform"
    }
  }
}

# SNOWFLAKE_ORGANIZATION_NAME, SNOWFLAKE_ACCOUNT_NAME, SNOWFLAKE_USER, SNOWFLAKE_AUTHENTICATOR=SNOWFLAKE_JWT and
# SNOWFLAKE_PRIVATE_KEY (or its file) come from the environment of whoever runs terraform.
provider "snowflake" {
  role = var.snowflake_admin_role
  preview_features_enabled = [
    "snowflake_storage_integration_resource",
    "snowflake_stage_resource",
  ]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
