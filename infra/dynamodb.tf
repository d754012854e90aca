# The commit lock of delta-spark on S3. Two writers of one table (a manual submit beside the schedule, a
# backfill beside the daily run) both see version N and both write N+1.json; S3 alone lets the second
# overwrite the first, and a commit is lost. delta-spark's S3DynamoDBLogStore first claims N+1 in this table
# with a conditional put, so exactly one writer wins and the other retries on N+2. The key schema and the
# expireTime TTL are the ones the log store uses (tablePath, fileName); conf/emr.yaml names the table.
# delta-rs needs no table: it commits with S3's own conditional writes (If-None-Match), see lake/deltars.py.
resource "aws_dynamodb_table" "delta_log" {
  name                        = var.delta_commit_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "tablePath"
  range_key                   = "fileName"
  deletion_protection_enabled = true

  attribute {
    name = "tablePath"
    type = "S"
  }

  attribute {
    name = "fileName"
    type = "S"
  }

  # An entry is needed only until its commit file is complete in S3; the log store sets expireTime (1 day).
  ttl {
    attribute_name = "expireTime"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.platform.arn
  }
}
