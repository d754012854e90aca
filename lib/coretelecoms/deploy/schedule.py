"""The daily schedule as code: a Step Functions state machine chaining the layers on EMR Serverless, the
EventBridge Scheduler input that starts it, and the EventBridge pattern that turns a failed EMR job run into
an SNS alert.

The JSON files in `infra/` are generated from here (`coretelecoms emr schedule` or
`python -m coretelecoms.deploy.schedule infra`) and read by Terraform with `templatefile()`, which fills the
`${application_id}`-style placeholders; a test keeps the committed files equal to this generator's output.
Each step runs the same job, with the same Spark parameters, as `coretelecoms emr submit`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from coretelecoms.deploy.config import EmrSettings, emr_settings
from coretelecoms.deploy.emr import spark_submit_parameters
from coretelecoms.settings import REPO_ROOT, Settings, SettingsError, load_settings

DAILY_LAYERS = ("landing", "bronze", "silver", "gold", "publish")
EMR_SYNC = "arn:aws:states:::emr-serverless:startJobRun.sync"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
RETRY_INTERVAL_SECONDS = 300
RETRY_MAX_ATTEMPTS = 3
# Scheduler fills this in with the ISO time the schedule fired (UTC), e.g. 2025-11-21T02:00:00Z.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
SCHEDULE_EXPRESSION = "cron(0 2 * * ? *)"  # 02:00 UTC: the previous day's drops are complete
FILES = {
    "state_machine.asl.json": "state_machine",
    "emr_job_failed.pattern.json": "failure_pattern",
    "schedule_input.json": "schedule_input",
}


@dataclass(frozen=True)
class Placeholders:
    """Values known only to Terraform; the defaults are the templatefile() variables."""

    application_id: str = "${application_id}"
    execution_role_arn: str = "${execution_role_arn}"
    artifacts_uri: str = "${artifacts_uri}"
    logs_uri: str = "${logs_uri}"
    topic_arn: str = "${topic_arn}"


def _state_name(layer: str) -> str:
    return layer.capitalize()


def _layer_task(layer: str, next_state: str, spark_params: str, p: Placeholders, timeout: int) -> dict:
    return {
        "Type": "Task",
        "Comment": f"jobs/{layer}.py --date <date> --env emr on EMR Serverless; waits for the run to finish",
        "Resource": EMR_SYNC,
        "Parameters": {
            "ApplicationId": p.application_id,
            "ExecutionRoleArn": p.execution_role_arn,
            "Name.$": f"States.Format('coretelecoms-{layer}-{{}}', $.date)",
            # A new token per attempt: a retry must start a new run, not return the failed one.
            "ClientToken.$": "States.UUID()",
            "ExecutionTimeoutMinutes": timeout,
            "JobDriver": {
                "SparkSubmit": {
                    "EntryPoint": f"{p.artifacts_uri}/jobs/{layer}.py",
                    "EntryPointArguments.$": "States.Array('--date', $.date, '--env', 'emr')",
                    "SparkSubmitParameters": spark_params,
                }
            },
            "ConfigurationOverrides": {
                "MonitoringConfiguration": {"S3MonitoringConfiguration": {"LogUri": f"{p.logs_uri}/"}}
            },
            "Tags": {"project": "coretelecoms", "layer": layer},
        },
        "ResultPath": f"$.runs.{layer}",
        "Retry": [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                "MaxAttempts": RETRY_MAX_ATTEMPTS,
                "BackoffRate": 1.0,
            }
        ],
        "Catch": [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{_state_name(layer)}Failed"}
        ],
        "Next": next_state,
    }


def state_machine(
    settings: Settings,
    *,
    layers: tuple[str, ...] = DAILY_LAYERS,
    placeholders: Placeholders = Placeholders(),
    emr: EmrSettings | None = None,
) -> dict:
    """The ASL definition: ResolveDate → one EMR Serverless task per layer → Succeeded; any failure (after
    3 retries 5 minutes apart) → an SNS message naming the step, the date and the error → Fail."""
    base = emr or emr_settings(settings)
    # The archive and log locations are Terraform's; every other job setting comes from the settings file.
    emr_for_asl = base.model_copy(
        update={"artifacts_uri": placeholders.artifacts_uri, "logs_uri": placeholders.logs_uri}
    )
    spark_params = spark_submit_parameters(settings, emr_for_asl)
    first = _state_name(layers[0])
    states: dict[str, dict] = {
        "ResolveDate": {
            "Type": "Choice",
            "Comment": 'A manual execution may pass {"date": "YYYY-MM-DD"}; the schedule passes scheduled_time.',
            "Choices": [{"Variable": "$.date", "IsPresent": True, "Next": first}],
            "Default": "DateFromSchedule",
        },
        "DateFromSchedule": {
            "Type": "Pass",
            "Comment": "The run date is the day before the scheduled time (UTC): that day's drops are complete.",
            "QueryLanguage": "JSONata",
            "Output": {
                "date": "{% $fromMillis($toMillis($states.input.scheduled_time) - 86400000, '[Y0001]-[M01]-[D01]') %}",
                "scheduled_time": "{% $states.input.scheduled_time %}",
            },
            "Next": first,
        },
    }
    for i, layer in enumerate(layers):
        nxt = _state_name(layers[i + 1]) if i + 1 < len(layers) else "Succeeded"
        states[_state_name(layer)] = _layer_task(
            layer, nxt, spark_params, placeholders, base.execution_timeout_minutes
        )
    states["Succeeded"] = {"Type": "Succeed"}
    for layer in layers:
        states[f"{_state_name(layer)}Failed"] = {
            "Type": "Pass",
            "Parameters": {"failed_step": layer, "date.$": "$.date", "error.$": "$.error"},
            "Next": "NotifyFailure",
        }
    states["NotifyFailure"] = {
        "Type": "Task",
        "Resource": SNS_PUBLISH,
        "Parameters": {
            "TopicArn": placeholders.topic_arn,
            "Subject": "CoreTelecoms daily pipeline failed",
            "Message.$": (
                "States.Format('The CoreTelecoms daily pipeline failed at the {} step for {} after "
                f"{RETRY_MAX_ATTEMPTS} retries. Error: {{}}. Cause: {{}}. Execution: {{}}', "
                "$.failed_step, $.date, $.error.Error, $.error.Cause, $$.Execution.Id)"
            ),
        },
        "ResultPath": None,
        "Retry": [
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 2.0}
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": "PipelineFailed"}],
        "Next": "PipelineFailed",
    }
    states["PipelineFailed"] = {
        "Type": "Fail",
        "Error": "CoreTelecoms.PipelineFailed",
        "Cause": "A layer failed after its retries; see the SNS message and the EMR Serverless job run logs.",
    }
    return {
        "Comment": (
            "CoreTelecoms daily pipeline: " + " -> ".join(layers) + " on EMR Serverless. "
            "Generated by coretelecoms.deploy.schedule; do not edit by hand."
        ),
        "QueryLanguage": "JSONPath",
        "StartAt": "ResolveDate",
        "TimeoutSeconds": 24 * 3600,
        "States": states,
    }


def failure_pattern(placeholders: Placeholders = Placeholders()) -> dict:
    """EventBridge pattern: any job run of the application that ends FAILED (scheduled or submitted by hand)."""
    return {
        "source": ["aws.emr-serverless"],
        "detail-type": ["EMR Serverless Job Run State Change"],
        "detail": {"applicationId": [placeholders.application_id], "state": ["FAILED"]},
    }


def schedule_input() -> dict:
    """What EventBridge Scheduler passes to each execution; DateFromSchedule turns it into the run date."""
    return {"scheduled_time": SCHEDULED_TIME}


# ---------------------------------------------------------------- checks


TERMINAL_TYPES = {"Succeed", "Fail"}
STATE_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}
RETRIER_KEYS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
}
CATCHER_KEYS = {"ErrorEquals", "Next", "ResultPath", "Output", "Assign"}


def validate(definition: dict) -> list[str]:
    """Structural ASL checks (a complement to statelint): reachable, closed, well-formed retriers."""
    problems: list[str] = []
    states = definition.get("States") or {}
    if definition.get("StartAt") not in states:
        problems.append(f"StartAt {definition.get('StartAt')!r} is not a state")

    def targets(name: str, state: dict) -> list[str]:
        out = [state["Next"]] if "Next" in state else []
        out += [c.get("Next") for c in state.get("Choices", [])]
        out += [state["Default"]] if "Default" in state else []
        out += [c.get("Next") for c in state.get("Catch", [])]
        return out

    for name, state in states.items():
        kind = state.get("Type")
        if kind not in STATE_TYPES:
            problems.append(f"{name}: unknown Type {kind!r}")
        if kind == "Task" and not str(state.get("Resource", "")).startswith("arn:"):
            problems.append(f"{name}: a Task needs a Resource ARN")
        if kind not in TERMINAL_TYPES and kind != "Choice" and "Next" not in state and not state.get("End"):
            problems.append(f"{name}: neither Next nor End")
        if kind in TERMINAL_TYPES and ("Next" in state or "End" in state):
            problems.append(f"{name}: a {kind} state cannot have Next or End")
        if "Next" in state and state.get("End"):
            problems.append(f"{name}: both Next and End")
        for target in targets(name, state):
            if target not in states:
                problems.append(f"{name}: transition to missing state {target!r}")
        for retrier in state.get("Retry", []):
            unknown = set(retrier) - RETRIER_KEYS
            if unknown:
                problems.append(f"{name}: unknown Retry fields {sorted(unknown)}")
            if not retrier.get("ErrorEquals"):
                problems.append(f"{name}: a retrier needs ErrorEquals")
            if (
                not isinstance(retrier.get("IntervalSeconds", 1), int)
                or retrier.get("IntervalSeconds", 1) < 1
            ):
                problems.append(f"{name}: IntervalSeconds must be a positive integer")
            if not isinstance(retrier.get("MaxAttempts", 3), int) or retrier.get("MaxAttempts", 3) < 0:
                problems.append(f"{name}: MaxAttempts must be a non-negative integer")
            if float(retrier.get("BackoffRate", 2.0)) < 1.0:
                problems.append(f"{name}: BackoffRate must be >= 1.0")
        for catcher in state.get("Catch", []):
            unknown = set(catcher) - CATCHER_KEYS
            if unknown or not catcher.get("ErrorEquals") or "Next" not in catcher:
                problems.append(f"{name}: malformed Catch {catcher}")
    # Every state reachable from StartAt.
    seen, todo = set(), [definition.get("StartAt")]
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        todo += targets(name, states[name])
    problems += [f"{name}: unreachable" for name in states if name not in seen]
    return problems


def layer_order(definition: dict) -> list[str]:
    """The layers the happy path runs, in order, read from the task entry points."""
    states, name, order = definition["States"], definition["StartAt"], []
    while name in states and states[name]["Type"] not in TERMINAL_TYPES:
        state = states[name]
        if state.get("Resource") == EMR_SYNC:
            entry = state["Parameters"]["JobDriver"]["SparkSubmit"]["EntryPoint"]
            order.append(entry.rsplit("/", 1)[-1].removesuffix(".py"))
        name = state.get("Default") if state["Type"] == "Choice" else state.get("Next")
    return order


# ---------------------------------------------------------------- files


def render(settings: Settings) -> dict[str, str]:
    """File name → content for infra/ (2-space JSON, trailing newline)."""
    docs = {
        "state_machine.asl.json": state_machine(settings),
        "emr_job_failed.pattern.json": failure_pattern(),
        "schedule_input.json": schedule_input(),
    }
    return {name: json.dumps(doc, indent=2) + "\n" for name, doc in docs.items()}


def write(settings: Settings, out_dir: Path = REPO_ROOT / "infra") -> list[Path]:
    definition = state_machine(settings)
    problems = validate(definition)
    if problems:
        raise ValueError("generated state machine is not valid: " + "; ".join(problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(settings).items():
        (out_dir / name).write_text(text)
        written.append(out_dir / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coretelecoms.deploy.schedule", description=__doc__)
    parser.add_argument("out_dir", nargs="?", type=Path, default=REPO_ROOT / "infra")
    parser.add_argument("--env", default="emr", help="settings file the Spark parameters come from (emr)")
    args = parser.parse_args(argv)
    try:
        for path in write(load_settings(args.env), args.out_dir):
            print(path)
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
