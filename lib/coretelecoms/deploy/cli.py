"""`coretelecoms emr …`: package and upload the project, submit a layer for a date, follow a run, and write the
schedule's generated files into infra/. Mounted by the main CLI with `app.add_typer(emr_app, name="emr")`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from coretelecoms.settings import REPO_ROOT, Settings, SettingsError, load_settings

emr_app = typer.Typer(no_args_is_help=True, help="Run the layers on EMR Serverless.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EnvOption = Annotated[str, typer.Option("--env", help="Settings file conf/<env>.yaml.")]


def _settings(env: str) -> Settings:
    try:
        return load_settings(env)
    except SettingsError as exc:
        err.print(f"[red]settings error:[/red] {exc}")
        raise typer.Exit(2) from None


def _date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def _print_run(run) -> None:
    colour = {"SUCCESS": "green", "FAILED": "red", "CANCELLED": "yellow"}.get(run.state, "cyan")
    console.print(
        f"{run.run_id}  [{colour}]{run.state}[/{colour}]  {run.name or ''}"
        + ("  (already submitted)" if run.reused else "")
    )
    if run.state_details:
        console.print(f"  details: {run.state_details}")
    if run.log_uri:
        console.print(f"  driver log: {run.log_uri}")


@emr_app.command()
def package(
    out: Annotated[Path, typer.Option(help="Output folder for the wheel and venv.tar.gz.")] = Path(
        "dist/emr"
    ),
    upload: Annotated[
        bool, typer.Option(help="Upload jobs/, the wheel and the archive to emr.artifacts_uri.")
    ] = False,
    archive: Annotated[bool, typer.Option(help="Build the venv-pack archive (off: wheel only).")] = True,
    env: EnvOption = "emr",
) -> None:
    """Build the project wheel and the venv-pack archive that spark.archives unpacks as ./environment."""
    from coretelecoms.deploy.emr import package as build
    from coretelecoms.deploy.emr import upload as put
    from coretelecoms.deploy.packaging import PackagingError

    settings = _settings(env) if upload else None
    try:
        with console.status("building the wheel and the archive…" if archive else "building the wheel…"):
            result = build(out, archive=archive)
    except PackagingError as exc:
        err.print(f"[red]packaging failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"wheel:   {result.wheel}")
    if result.archive:
        console.print(f"archive: {result.archive} ({result.archive.stat().st_size / 1e6:.1f} MB)")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    if upload:
        from coretelecoms.deploy.emr import EmrError

        try:
            for uri in put(settings, result):
                console.print(f"uploaded {uri}")
        except SettingsError as exc:
            err.print(f"[red]settings error:[/red] {exc}")
            raise typer.Exit(2) from None
        except EmrError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None


@emr_app.command()
def jars(
    out: Annotated[
        Path, typer.Option(help="Folder for the jars (emr package --upload reads <out>/..).")
    ] = Path("dist/emr/jars"),
    pin: Annotated[
        bool, typer.Option(help="Record the sha256 of jars not pinned yet in deploy/jars.json (commit it).")
    ] = False,
    repo: Annotated[
        str, typer.Option(help="Maven repository to download from.")
    ] = "https://repo1.maven.org/maven2",
) -> None:
    """Download the pinned Snowflake Spark connector and JDBC jars and check them (the repository's .sha1
    and the sha256 pinned in jars.json). Needs a machine that reaches the Maven repository."""
    from coretelecoms.deploy.jars import JarError, fetch

    try:
        for path in fetch(out, repo=repo, pin=pin):
            console.print(f"ok {path}")
    except JarError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@emr_app.command()
def submit(
    layer: Annotated[str, typer.Argument(help="landing, bronze, silver, gold, publish or maintenance.")],
    run_date: Annotated[
        str | None, typer.Option("--date", help="Drop date YYYY-MM-DD (maintenance: default today, UTC).")
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Follow the run until it finishes; exit 1 unless it succeeded.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Start a new run even if one for this layer and date is active or succeeded.")
    ] = False,
    env: EnvOption = "emr",
) -> None:
    """Start jobs/<layer>.py --date D on EMR Serverless (idempotent per layer and date)."""
    from coretelecoms.deploy.emr import EmrError, wait_for
    from coretelecoms.deploy.emr import submit as start

    if run_date is None and layer != "maintenance":
        err.print(f"[red]error:[/red] --date is required for {layer}")
        raise typer.Exit(2)
    settings = _settings(env)
    day = _date(run_date) if run_date else datetime.now(UTC).date()
    try:
        run = start(settings, layer, day, force=force)
        _print_run(run)
        if wait and not run.done:
            last = run.state

            def changed(info) -> None:
                if info.state != last:
                    _print_run(info)

            run = wait_for(settings, run.run_id, on_change=changed)
    except SettingsError as exc:
        err.print(f"[red]settings error:[/red] {exc}")
        raise typer.Exit(2) from None
    except EmrError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if wait and not run.succeeded:
        raise typer.Exit(1)


@emr_app.command()
def smoke(
    smoke_id: Annotated[
        str | None, typer.Option(help="Names the run, its scratch prefix and tables (default: UTC time).")
    ] = None,
    env: EnvOption = "emr",
) -> None:
    """Prove the cluster on its first run: one job that runs the Delta contract suite on delta-spark (the
    suite CI runs on delta-rs), a tiny generated day landing→gold on a scratch prefix of the lake
    (<lake>/_smoke/<id>/), and a Snowflake Spark connector round trip in scratch tables (write, MERGE,
    read back, drop). Waits for it, prints a pass/fail table, exits 1 on any failure. Run it right after
    `terraform apply` and `emr package --upload`.
    """
    from coretelecoms.deploy.emr import EmrError, smoke_report, submit_smoke, wait_for
    from coretelecoms.ops.smoke import parse_report, passed

    settings = _settings(env)
    smoke_id = smoke_id or datetime.now(UTC).strftime("%Y%m%dt%H%M%S")
    try:
        run = submit_smoke(settings, smoke_id)
        _print_run(run)
        run = wait_for(settings, run.run_id, on_change=_print_run)
        body = smoke_report(settings, smoke_id)
    except SettingsError as exc:
        err.print(f"[red]settings error:[/red] {exc}")
        raise typer.Exit(2) from None
    except EmrError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if body is None:
        err.print(f"[red]error:[/red] the smoke job ({run.state}) wrote no report; see {run.log_uri}")
        raise typer.Exit(1)
    try:
        checks = parse_report(body)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    from rich.table import Table

    table = Table(title=f"smoke {smoke_id}  (job run {run.run_id}, {run.state})")
    for col in ("check", "result", "seconds", "detail"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for c in checks:
        colour = {"pass": "green", "fail": "red"}.get(c.status, "yellow")
        table.add_row(c.name, f"[{colour}]{c.status}[/{colour}]", f"{c.seconds:.1f}", c.detail)
    console.print(table)
    if not (passed(checks) and run.succeeded):
        raise typer.Exit(1)


@emr_app.command()
def status(
    run_id: Annotated[str, typer.Argument(help="The job run id printed by submit.")],
    wait: Annotated[
        bool, typer.Option(help="Follow the run until it finishes; exit 1 unless it succeeded.")
    ] = False,
    env: EnvOption = "emr",
) -> None:
    """Show a job run's state, details and driver log location."""
    from coretelecoms.deploy.emr import EmrError, wait_for
    from coretelecoms.deploy.emr import status as get

    settings = _settings(env)
    try:
        run = wait_for(settings, run_id, on_change=_print_run) if wait else get(settings, run_id)
    except SettingsError as exc:
        err.print(f"[red]settings error:[/red] {exc}")
        raise typer.Exit(2) from None
    except EmrError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if not wait:
        _print_run(run)
    if run.done and not run.succeeded:
        raise typer.Exit(1)


@emr_app.command()
def schedule(
    out: Annotated[Path, typer.Option(help="Where Terraform reads the generated files.")] = REPO_ROOT
    / "infra",
    env: EnvOption = "emr",
) -> None:
    """Write the Step Functions definition, the schedule input and the failure pattern into infra/."""
    from coretelecoms.deploy.schedule import write

    for path in write(_settings(env), out):
        console.print(f"wrote {path}")
