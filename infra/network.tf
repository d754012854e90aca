# The network the jobs run in. Without a VPC an EMR Serverless job reaches only some same-region AWS endpoints,
# so landing (Postgres, the Google Sheets API) and publish (Snowflake) could not connect. With var.vpc_id empty
# Terraform builds one: two private subnets for the jobs, one public subnet holding the NAT gateway (the way
# out to Google and Snowflake), gateway endpoints for S3 and DynamoDB (lake and commit-lock traffic stays off
# the NAT) and interface endpoints for Secrets Manager, CloudWatch Logs and STS. With var.vpc_id set, the
# operator's VPC and var.emr_subnet_ids are used as they are (their routes and endpoints are the operator's),
# and only the jobs' security group is created in it.

locals {
  create_vpc = var.vpc_id == ""
  vpc_id     = local.create_vpc ? aws_vpc.lake[0].id : var.vpc_id
  job_subnet_ids = (
    local.create_vpc ? aws_subnet.private[*].id : var.emr_subnet_ids
  )
  interface_endpoints = local.create_vpc ? toset(["secretsmanager", "logs", "sts"]) : toset([])
}

# Two named zones, so the subnets never move when AWS adds a zone to the region.
data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-name"
    values = ["${var.region}a", "${var.region}b"]
  }
}

resource "aws_vpc" "lake" {
  count                = local.create_vpc ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints answer on the services' own names (private DNS)
  tags                 = { Name = "coretelecoms" }
}

# The default security group of the VPC allows nothing; the jobs use their own.
resource "aws_default_security_group" "lake" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.lake[0].id
}

resource "aws_subnet" "private" {
  count                   = local.create_vpc ? 2 : 0
  vpc_id                  = aws_vpc.lake[0].id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  map_public_ip_on_launch = false
  tags                    = { Name = "coretelecoms-private-${count.index}" }
}

resource "aws_subnet" "public" {
  count                   = local.create_vpc ? 1 : 0
  vpc_id                  = aws_vpc.lake[0].id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 15)
  availability_zone       = data.aws_availability_zones.available.names[0]
  map_public_ip_on_launch = false # only the NAT gateway lives here, on its own Elastic IP
  tags                    = { Name = "coretelecoms-public-nat" }
}

resource "aws_internet_gateway" "lake" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.lake[0].id
}

resource "aws_eip" "nat" {
  #checkov:skip=CKV2_AWS_19:This Elastic IP belongs to the NAT gateway, not to an instance; checkov only counts instance attachments.
  count  = local.create_vpc ? 1 : 0
  domain = "vpc"
}

resource "aws_nat_gateway" "lake" {
  count         = local.create_vpc ? 1 : 0
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  depends_on    = [aws_internet_gateway.lake]
}

resource "aws_route_table" "public" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.lake[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.lake[0].id
  }
}

resource "aws_route_table_association" "public" {
  count          = local.create_vpc ? 1 : 0
  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_route_table" "private" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.lake[0].id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.lake[0].id
  }
}

resource "aws_route_table_association" "private" {
  count          = local.create_vpc ? 2 : 0
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

# S3 and DynamoDB through gateway endpoints: free, and the lake's traffic never crosses the NAT.
resource "aws_vpc_endpoint" "gateway" {
  for_each          = local.create_vpc ? toset(["s3", "dynamodb"]) : toset([])
  vpc_id            = aws_vpc.lake[0].id
  service_name      = "com.amazonaws.${var.region}.${each.value}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private[0].id]
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_endpoints
  vpc_id              = aws_vpc.lake[0].id
  service_name        = "com.amazonaws.${var.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
}

# ---------------------------------------------------------------- security groups

# The jobs accept no connections and open only two kinds: HTTPS (AWS endpoints, Google, Snowflake) and
# Postgres to the source database.
resource "aws_security_group" "jobs" {
  #checkov:skip=CKV2_AWS_5:Attached to the EMR Serverless application (emr.tf network_configuration), a resource type checkov does not follow.
  name        = "coretelecoms-emr-jobs"
  description = "EMR Serverless jobs: HTTPS out, Postgres out to the source database, nothing in"
  vpc_id      = local.vpc_id

  lifecycle {
    precondition {
      condition     = var.postgres_security_group_id != "" || length(var.postgres_cidr_blocks) > 0
      error_message = "Set postgres_security_group_id (RDS in this VPC or a peered one) or postgres_cidr_blocks (reached through the NAT): landing must reach Postgres."
    }
    precondition {
      condition     = local.create_vpc || length(var.emr_subnet_ids) > 0
      error_message = "With vpc_id set, emr_subnet_ids must name the private subnets (with a NAT route) the jobs run in."
    }
  }
}

resource "aws_vpc_security_group_egress_rule" "jobs_https" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS: S3/DynamoDB/Secrets Manager/Logs/STS endpoints, Google Sheets API and Snowflake via the NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "jobs_postgres_sg" {
  count                        = var.postgres_security_group_id == "" ? 0 : 1
  security_group_id            = aws_security_group.jobs.id
  description                  = "Postgres to the source RDS security group (landing exports the web forms)"
  ip_protocol                  = "tcp"
  from_port                    = var.postgres_port
  to_port                      = var.postgres_port
  referenced_security_group_id = var.postgres_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "jobs_postgres_cidr" {
  for_each          = toset(var.postgres_cidr_blocks)
  security_group_id = aws_security_group.jobs.id
  description       = "Postgres to the source database address (landing exports the web forms)"
  ip_protocol       = "tcp"
  from_port         = var.postgres_port
  to_port           = var.postgres_port
  cidr_ipv4         = each.value
}

resource "aws_security_group" "endpoints" {
  count       = local.create_vpc ? 1 : 0
  name        = "coretelecoms-vpc-endpoints"
  description = "Interface endpoints: HTTPS from the jobs only"
  vpc_id      = aws_vpc.lake[0].id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_jobs" {
  count                        = local.create_vpc ? 1 : 0
  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the EMR jobs to Secrets Manager, CloudWatch Logs and STS"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.jobs.id
}

# ---------------------------------------------------------------- flow logs

resource "aws_flow_log" "lake" {
  count                = local.create_vpc ? 1 : 0
  vpc_id               = aws_vpc.lake[0].id
  traffic_type         = "REJECT" # what the security groups refused: the trace a misconfigured egress leaves
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  count             = local.create_vpc ? 1 : 0
  name              = "/coretelecoms/vpc-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.platform.arn
}

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  count              = local.create_vpc ? 1 : 0
  name               = "coretelecoms-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_trust.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid       = "WriteFlowLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/coretelecoms/vpc-flow-logs:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  count  = local.create_vpc ? 1 : 0
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs[0].id
  policy = data.aws_iam_policy_document.flow_logs.json
}
