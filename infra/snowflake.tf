# The warehouse side: CORETELECOMS_DW.ANALYTICS, an XS warehouse that suspends after 60 s idle, a loader role
# (the publish job) and an analyst role (read only), and the storage integration + external stage through
# which COPY INTO reads the Parquet the publish job writes under s3://<lake>/_publish/.
# The names match conf/emr.yaml (warehouse.*).

resource "snowflake_database" "dw" {
  name    = var.snowflake_database
  comment = "CoreTelecoms published gold star schema"
}

resource "snowflake_schema" "analytics" {
  database = snowflake_database.dw.name
  name     = var.snowflake_schema
  comment  = "Gold tables and marts, loaded by CORETELECOMS_LOADER"
}

resource "snowflake_warehouse" "xs" {
  name                = var.snowflake_warehouse
  warehouse_size      = "XSMALL"
  auto_suspend        = 60
  auto_resume         = "true"
  initially_suspended = true
  comment             = "CoreTelecoms loads and analysis"
}

resource "snowflake_account_role" "loader" {
  name    = "CORETELECOMS_LOADER"
  comment = "The publish job: creates and loads the ANALYTICS tables from the external stage"
}

resource "snowflake_account_role" "analyst" {
  name    = "CORETELECOMS_ANALYST"
  comment = "Reads the ANALYTICS tables"
}

# Both roles sit under SYSADMIN, so administrators see what they own.
resource "snowflake_grant_account_role" "loader_to_sysadmin" {
  role_name        = snowflake_account_role.loader.name
  parent_role_name = "SYSADMIN"
}

resource "snowflake_grant_account_role" "analyst_to_sysadmin" {
  role_name        = snowflake_account_role.analyst.name
  parent_role_name = "SYSADMIN"
}

locals {
  snowflake_roles = {
    loader  = snowflake_account_role.loader.name
    analyst = snowflake_account_role.analyst.name
  }
}

# USAGE on the warehouse (loads and queries run on it) and on the database (to reach the schema), for both roles.
resource "snowflake_grant_privileges_to_account_role" "warehouse_usage" {
  for_each          = local.snowflake_roles
  account_role_name = each.value
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "WAREHOUSE"
    object_name = snowflake_warehouse.xs.name
  }
}

resource "snowflake_grant_privileges_to_account_role" "database_usage" {
  for_each          = local.snowflake_roles
  account_role_name = each.value
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "DATABASE"
    object_name = snowflake_database.dw.name
  }
}

# The loader's rights on the schema, each for one thing the publish job does:
# - USAGE: resolve ANALYTICS.<table> at all.
# - CREATE TABLE: the first publish of a gold table creates it (connector overwrite / CREATE TABLE before COPY).
# - CREATE STAGE: the Spark connector stages its Parquet in a temporary internal stage it creates per write.
# Nothing else: no CREATE VIEW, FILE FORMAT, PIPE or schema ownership.
resource "snowflake_grant_privileges_to_account_role" "schema_loader" {
  account_role_name = snowflake_account_role.loader.name
  privileges        = ["USAGE", "CREATE TABLE", "CREATE STAGE"]
  on_schema {
    schema_name = snowflake_schema.analytics.fully_qualified_name
  }
}

resource "snowflake_grant_privileges_to_account_role" "schema_analyst" {
  account_role_name = snowflake_account_role.analyst.name
  privileges        = ["USAGE"]
  on_schema {
    schema_name = snowflake_schema.analytics.fully_qualified_name
  }
}

# On the tables it creates and loads: SELECT to reconcile counts after a load, INSERT for COPY INTO and the
# connector's append, UPDATE/DELETE for the merge of changed and erased rows, TRUNCATE for a full reload.
resource "snowflake_grant_privileges_to_account_role" "future_tables_loader" {
  account_role_name = snowflake_account_role.loader.name
  privileges        = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"]
  on_schema_object {
    future {
      object_type_plural = "TABLES"
      in_schema          = snowflake_schema.analytics.fully_qualified_name
    }
  }
}

resource "snowflake_grant_privileges_to_account_role" "future_tables_analyst" {
  account_role_name = snowflake_account_role.analyst.name
  privileges        = ["SELECT"]
  on_schema_object {
    future {
      object_type_plural = "TABLES"
      in_schema          = snowflake_schema.analytics.fully_qualified_name
    }
  }
}

resource "snowflake_grant_privileges_to_account_role" "existing_tables_analyst" {
  account_role_name = snowflake_account_role.analyst.name
  privileges        = ["SELECT"]
  on_schema_object {
    all {
      object_type_plural = "TABLES"
      in_schema          = snowflake_schema.analytics.fully_qualified_name
    }
  }
}

resource "snowflake_storage_integration" "lake" {
  name                      = "CORETELECOMS_LAKE"
  comment                   = "Read access to s3://<lake>/_publish/ through an IAM role"
  type                      = "EXTERNAL_STAGE"
  storage_provider          = "S3"
  enabled                   = true
  storage_allowed_locations = [local.stage_url]
  storage_aws_role_arn      = local.snowflake_iam
}

resource "snowflake_stage" "lake" {
  name                = "LAKE_STAGE"
  database            = snowflake_database.dw.name
  schema              = snowflake_schema.analytics.name
  url                 = local.stage_url
  storage_integration = snowflake_storage_integration.lake.name
  file_format         = "TYPE = PARQUET"
  comment             = "Parquet written by the publish job; COPY INTO reads it"

  # Snowflake assumes the role when the stage is used; create the role and its policy first.
  depends_on = [aws_iam_role_policy.snowflake_stage]
}

# USAGE on the external stage: COPY INTO reads the published Parquet from it (READ is for internal stages only).
resource "snowflake_grant_privileges_to_account_role" "stage_loader" {
  account_role_name = snowflake_account_role.loader.name
  privileges        = ["USAGE"]
  on_schema_object {
    object_type = "STAGE"
    object_name = snowflake_stage.lake.fully_qualified_name
  }
}
