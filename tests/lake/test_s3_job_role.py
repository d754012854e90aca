"""Every job's S3, Secrets Manager and DynamoDB calls under the execution role's policy as Terraform renders it
(infra/modules/job_policy), on moto's server with IAM enforced.

moto enforces S3 actions and resources, but for Secrets Manager and DynamoDB it checks the action against
resource "*" only, so those statements go to moto with Resource "*" (their ARNs are asserted to be exactly
the secrets and the table); moto also authorizes bulk deletes against the bucket ARN, so it gets that one
extra grant; and moto ignores Condition blocks, so the one condition the policy uses (s3:prefix
on ListBucket) is checked against the listings moto recorded: every prefix the jobs listed must match it.
Spark itself cannot read s3:// here (no hadoop-aws jars), so the Spark-side jobs are exercised through the
lake calls they make (delta-rs commits, log reads, merges, deletes, checkpoint and quality objects);
maintenance runs whole."""

from __future__ import annotations

import fnmatch
import json
import sys
import urllib.parse
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from pyspark.sql import types as T

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from deploy_helpers import render_job_policy  # noqa: E402
from test_s3_commits import moto_api, recorded  # noqa: E402

from coretelecoms.context import RunContext  # noqa: E402
from coretelecoms.lake import engine_for  # noqa: E402
from coretelecoms.ops.maintenance import run_maintenance  # noqa: E402
from coretelecoms.settings import load_settings  # noqa: E402

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
LAKE_PREFIXES = [
    "landing/",
    "bronze/",
    "silver/",
    "gold/",
    "_ops/",
    "_checkpoints/",
    "_quality/",
    "_publish/",
]
SCHEMA = T.StructType([T.StructField("customer_id", T.StringType()), T.StructField("n", T.LongType())])
CUSTOMER = "5a9f0c12-3d6e-4e7b-a1c4-b8e2d0f7a619"


@pytest.fixture(scope="module")
def role(moto_process_url, tmp_path_factory):
    """The lake, the sources, three secrets and the commit table on moto; a principal holding exactly the
    rendered policy; then IAM enforcement switched on for the rest of this server's life."""
    url = moto_process_url
    admin = boto3.Session(aws_access_key_id="admin", aws_secret_access_key="admin", region_name=REGION)
    lake, source = f"lake-{uuid.uuid4().hex[:8]}", f"src-{uuid.uuid4().hex[:8]}"
    s3 = admin.client("s3", endpoint_url=url)
    for bucket in (lake, source):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=source, Key="call logs/call_logs_day_2025-11-20.csv", Body=b"a\n1\n")
    s3.put_object(Bucket=lake, Key="_artifacts/jobs/silver.py", Body=b"print()")
    secrets = admin.client("secretsmanager", endpoint_url=url)
    secret_arns = [
        secrets.create_secret(Name=f"coretelecoms/{n}", SecretString="x")["ARN"]
        for n in ("postgres-dsn", "gsheets-service-account", "snowflake-key")
    ]
    outside = secrets.create_secret(Name="someone-else/key", SecretString="x")["ARN"]
    key_arn = admin.client("kms", endpoint_url=url).create_key()["KeyMetadata"]["Arn"]
    ddb = admin.client("dynamodb", endpoint_url=url)
    table = ddb.create_table(
        TableName="coretelecoms-delta-log",
        KeySchema=[
            {"AttributeName": "tablePath", "KeyType": "HASH"},
            {"AttributeName": "fileName", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "tablePath", "AttributeType": "S"},
            {"AttributeName": "fileName", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    policy = render_job_policy(
        tmp_path_factory.mktemp("policy"),
        lake_arn=f"arn:aws:s3:::{lake}",
        lake_prefixes=LAKE_PREFIXES,
        artifacts_path="_artifacts/",
        emr_logs_path="_logs/emr/",
        source_arn=f"arn:aws:s3:::{source}",
        source_prefixes=["customers/", "call logs/", "social_medias/"],
        secret_arns=secret_arns,
        kms_key_arn=key_arn,
        commit_table_arn=table,
    )
    iam = admin.client("iam", endpoint_url=url)
    iam.create_user(UserName="emr-job")
    statements = {st["Sid"]: st for st in policy["Statement"]}
    assert statements["ReadNamedSecrets"]["Resource"] == secret_arns and outside not in secret_arns
    assert statements["DeltaCommitLock"]["Resource"] == [table]
    enforced = {
        **policy,
        "Statement": [
            st if all(a.startswith("s3:") for a in st["Action"]) else {**st, "Resource": "*"}
            for st in policy["Statement"]
        ]
        # moto authorizes a bulk DeleteObjects (VACUUM) against the bucket ARN; AWS checks s3:DeleteObject
        # on each key, which ReadWriteLakeLayers grants. On AWS this statement would grant nothing.
        + [
            {
                "Sid": "MotoBulkDelete",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject"],
                "Resource": [f"arn:aws:s3:::{lake}"],
            }
        ],
    }
    iam.put_user_policy(UserName="emr-job", PolicyName="job", PolicyDocument=json.dumps(enforced))
    key = iam.create_access_key(UserName="emr-job")["AccessKey"]
    moto_api(url, "reset-auth", b"0")  # from here on moto checks every request against IAM
    return {
        "url": url,
        "lake": lake,
        "source": source,
        "secrets": secret_arns,
        "outside_secret": outside,
        "table": "coretelecoms-delta-log",
        "policy": policy,
        "env": {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_ENDPOINT_URL": url,
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        },
    }


@pytest.fixture
def job_ctx(spark, tmp_path, monkeypatch, role):
    for k, v in role["env"].items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("CORETELECOMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CORETELECOMS__LAKE__ROOT", f"s3://{role['lake']}")
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__RETENTION_HOURS", "0")
    # Toy tables under real names, so not their quality suites (the role's _quality/ writes are exercised
    # above, as silver makes them).
    monkeypatch.setenv("CORETELECOMS__MAINTENANCE__TABLE_SUITES", "false")
    settings = load_settings("local")
    return RunContext(settings, spark, engine_for(spark, settings.lake.root, "delta-rs"), "iam")


def frame(spark, n=3):
    return spark.createDataFrame([(CUSTOMER if i == 0 else f"c{i}", i) for i in range(n)], SCHEMA).coalesce(1)


def test_every_job_works_under_the_execution_role_and_nothing_else_does(spark, job_ctx, role):
    url, lake, lake_s3 = role["url"], role["lake"], job_ctx.lake
    # A session of its own: boto3's default session keeps the credentials an earlier test resolved.
    session = boto3.Session()
    s3 = session.client("s3", endpoint_url=url)
    secrets = session.client("secretsmanager", endpoint_url=url)
    ddb = session.client("dynamodb", endpoint_url=url)
    moto_api(url, "recorder/reset-recording", b"")
    moto_api(url, "recorder/start-recording", b"")
    try:
        # landing: read the sources, the Postgres and Sheets secrets; write landed files and the ledger.
        body = s3.get_object(Bucket=role["source"], Key="call logs/call_logs_day_2025-11-20.csv")[
            "Body"
        ].read()
        s3.list_objects_v2(Bucket=role["source"], Prefix="call logs/")
        for arn in role["secrets"][:2]:
            secrets.get_secret_value(SecretId=arn)
        s3.put_object(Bucket=lake, Key="landing/s3/call logs/call_logs_day_2025-11-20.csv", Body=body)
        lake_s3.append("_ops.landed_files", frame(spark))
        # bronze: read landing, keep a stream checkpoint, append with an application transaction.
        s3.get_object(Bucket=lake, Key="landing/s3/call logs/call_logs_day_2025-11-20.csv")
        s3.put_object(Bucket=lake, Key="_checkpoints/bronze/call_logs/offsets/0", Body=b"v1")
        lake_s3.append("bronze.call_logs", frame(spark))
        assert lake_s3.txn_version("bronze.call_logs", "none") is None
        # silver: merge, quality metrics and validation results.
        lake_s3.merge("silver.customers", frame(spark), keys=["customer_id"])
        lake_s3.merge("silver.customers", frame(spark, 5), keys=["customer_id"])
        lake_s3.append("_quality.metrics", frame(spark))
        s3.put_object(Bucket=lake, Key="_quality/validations/silver.customers.json", Body=b"{}")
        # gold: the change feed of silver, merged into a dimension.
        assert lake_s3.changes("silver.customers", 0).count() >= 3
        lake_s3.merge("gold.dim_customer", frame(spark), keys=["customer_id"])
        # publish: the Snowflake key, the staged Parquet, the published versions.
        secrets.get_secret_value(SecretId=role["secrets"][2])
        s3.put_object(Bucket=lake, Key="_publish/dim_customer/part-0.parquet", Body=b"x")
        lake_s3.append("_ops.publish_state", frame(spark))
        # erasure: find the tables layer by layer, delete the customer, audit.
        assert {"silver.customers", "gold.dim_customer", "_ops.publish_state"} <= set(lake_s3.list_tables())
        lake_s3.delete("silver.customers", f"customer_id = '{CUSTOMER}'")
        lake_s3.append("_ops.erasure_audit", frame(spark))
        # maintenance: the whole job (list, OPTIMIZE, VACUUM, ledger).
        entries = run_maintenance(job_ctx)
        assert entries and all(e.status == "ok" for e in entries), [
            (e.source, e.status, e.error) for e in entries if e.status != "ok"
        ]
        # delta-spark's commit lock, as S3DynamoDBLogStore calls it.
        ddb.describe_table(TableName=role["table"])
        entry = {
            "tablePath": {"S": f"s3://{lake}/silver/customers"},
            "fileName": {"S": "00000000000000000009.json"},
            "tempPath": {"S": ".tmp/9.json"},
            "complete": {"S": "false"},
        }
        ddb.put_item(TableName=role["table"], Item=entry, Expected={"fileName": {"Exists": False}})
        ddb.get_item(
            TableName=role["table"], Key={k: entry[k] for k in ("tablePath", "fileName")}, ConsistentRead=True
        )
        ddb.query(
            TableName=role["table"],
            KeyConditions={
                "tablePath": {"ComparisonOperator": "EQ", "AttributeValueList": [entry["tablePath"]]}
            },
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        # The artifacts are readable, the job logs writable.
        s3.get_object(Bucket=lake, Key="_artifacts/jobs/silver.py")
        s3.put_object(Bucket=lake, Key="_logs/emr/applications/a/jobs/j/stdout.gz", Body=b"")
    finally:
        moto_api(url, "recorder/stop-recording", b"")

    # ... and what the role may not do is refused.
    denied = [
        lambda: s3.put_object(Bucket=lake, Key="elsewhere/x", Body=b""),
        lambda: s3.put_object(Bucket=lake, Key="_artifacts/jobs/silver.py", Body=b"tampered"),
        lambda: s3.put_object(Bucket=role["source"], Key="call logs/x.csv", Body=b""),
        lambda: secrets.create_secret(Name="coretelecoms/new", SecretString="x"),
        lambda: ddb.create_table(
            TableName="x",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        ),
        lambda: ddb.delete_table(TableName=role["table"]),
    ]
    for call in denied:
        with pytest.raises(ClientError, match="AccessDenied|not authorized"):
            call()

    # Every listing the jobs made is one the policy's s3:prefix condition allows (moto does not check it).
    allowed = {
        f"arn:aws:s3:::{lake}" if s["Resource"][0].endswith(lake) else s["Resource"][0]: s["Condition"][
            "StringLike"
        ]["s3:prefix"]
        for s in role["policy"]["Statement"]
        if s["Sid"] in ("ListLakePrefixes", "ListSourcePrefixes")
    }
    listings = []
    for r in recorded(url):
        parts = urllib.parse.urlsplit(r["url"])
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        bucket = parts.path.strip("/").split("/")[0]
        if (
            r["method"] == "GET"
            and parts.path.strip("/") == bucket
            and ("list-type" in query or "prefix" in query)
        ):
            listings.append((bucket, query.get("prefix", [""])[0]))
    assert {b for b, _ in listings} == {lake, role["source"]} and len(listings) > 10
    for bucket, prefix in listings:
        patterns = allowed[f"arn:aws:s3:::{bucket}"]
        assert any(fnmatch.fnmatchcase(prefix, p) for p in patterns), (
            f"s3:ListBucket {bucket} prefix {prefix!r}"
        )
    # The root listing engine.py used to make would have been refused.
    assert not any(fnmatch.fnmatchcase("", p) for p in allowed[f"arn:aws:s3:::{lake}"])
