"""The `coretelecoms` command: generate sources, run layers, look at the lake, benchmark."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from coretelecoms.deploy.cli import emr_app
from coretelecoms.logs import VERBOSE_ENV, setup_logging
from coretelecoms.logs import verbose as is_verbose
from coretelecoms.progress import LayerProgress
from coretelecoms.secrets import redact
from coretelecoms.settings import Settings, SettingsError, load_settings
from coretelecoms.spark import JavaMissingError


class Commands(TyperGroup):
    """Every command builds its Spark session lazily, deep inside; a missing or old Java is caught here,
    once, and said in one line instead of a py4j traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JavaMissingError as exc:
            err.print(f"[red]error:[/red] {redact(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None


# No locals in tracebacks: a frame's locals can hold a resolved secret.
app = typer.Typer(
    cls=Commands,
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    pretty_exceptions_show_locals=False,
)
sources_app = typer.Typer(no_args_is_help=True, help="The synthetic CoreTelecoms source systems.")
app.add_typer(sources_app, name="sources")
warehouse_app = typer.Typer(no_args_is_help=True, help="The warehouse the gold star schema is published to.")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(emr_app, name="emr", help="EMR Serverless: package, submit and follow job runs.")
quality_app = typer.Typer(
    no_args_is_help=True, help="Data quality: Great Expectations Data Docs and metrics."
)
app.add_typer(quality_app, name="quality")
console = Console()
err = Console(stderr=True)

_state: dict = {"env": None, "json": False}
log = logging.getLogger("coretelecoms")


@app.callback()
def main(
    env: Annotated[str | None, typer.Option(help="Settings file conf/<env>.yaml (CORETELECOMS_ENV).")] = None,
    log_json: Annotated[
        bool, typer.Option(help="Structured JSON logs on stderr (always on in EMR mode).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="INFO logs, Spark's start-up lines and emulator warnings.")
    ] = False,
):
    _state["env"] = env
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    json_lines = log_json or (env or os.environ.get("CORETELECOMS_ENV")) == "emr"
    _state["json"] = json_lines
    # At a terminal the tables say what happened; INFO lines (engine choice, suite timings) are for the
    # machine-read JSON logs, or for --verbose.
    level = logging.INFO if json_lines or is_verbose() else logging.WARNING
    setup_logging(json_lines=json_lines, level=level)


def settings() -> Settings:
    try:
        return load_settings(_state["env"])
    except SettingsError as exc:
        err.print(f"[red]settings error:[/red] {exc}")
        raise typer.Exit(2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {redact(message)}", soft_wrap=True)
    return typer.Exit(code)


def iso_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option value, or a one-line usage error naming the option (exit 2)."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{option} {value!r} is not a date YYYY-MM-DD ({exc})", 2) from None


# ---------------------------------------------------------------- sources


def generate_sources(
    s: Settings,
    *,
    scale: float,
    start: date,
    days: int,
    seed: int,
    messy: float,
) -> dict:
    from coretelecoms.sources import dsn, generate, local_postgres

    sources_dir = s.data_dir / "sources"
    with console.status(f"generating sources (scale {scale}, {days} days from {start}, seed {seed})…"):
        server = local_postgres(s.sources.postgres.pgdata)
        return generate(
            sources_dir, scale=scale, start=start, days=days, seed=seed, messy=messy, pg_dsn=dsn(server)
        )


def count(records: int | None) -> str:
    # A truncated JSON file has no countable records: the manifest says None, the table says "?".
    return "?" if records is None else f"{records:,}"


def print_manifest(manifest: dict, seconds: float | None = None) -> None:
    table = Table(title="Generated source systems" + (f" in {seconds:.1f}s" if seconds else ""))
    table.add_column("file or table")
    table.add_column("date")
    table.add_column("records", justify="right")
    for path, info in manifest["files"].items():
        table.add_row(path, str(info.get("date") or "-"), count(info.get("records")))
    for name, info in manifest["tables"].items():
        table.add_row(f"postgres: {name}", str(info.get("date") or "-"), count(info.get("records")))
    console.print(table)
    if manifest.get("faults"):
        kinds: dict[str, int] = {}
        for fault in manifest["faults"]:
            kinds[fault["kind"]] = kinds.get(fault["kind"], 0) + 1
        console.print("injected faults: " + ", ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))


@sources_app.command("generate")
def sources_generate(
    scale: Annotated[float | None, typer.Option(help="1.0 = one real day's volumes.")] = None,
    start: Annotated[str | None, typer.Option(help="First drop date, YYYY-MM-DD.")] = None,
    days: Annotated[int | None, typer.Option(help="Number of daily drops.")] = None,
    seed: Annotated[int | None, typer.Option(help="Same seed, same bytes.")] = None,
    messy: Annotated[float, typer.Option(help="Rate of ordinary-life faults to inject (0 = clean).")] = 0.0,
):
    """Generate the five source systems under <data>/sources (S3 tree, Postgres tables, agents sheet)."""
    s = settings()
    g = s.generator
    began = time.perf_counter()
    manifest = generate_sources(
        s,
        scale=scale if scale is not None else g.scale,
        start=iso_date(start, "--start") if start else g.start,
        days=days if days is not None else g.days,
        seed=seed if seed is not None else g.seed,
        messy=messy,
    )
    print_manifest(manifest, time.perf_counter() - began)
    console.print(f"sources: {s.data_dir / 'sources'}  (manifest.json beside them)")


# ---------------------------------------------------------------- run


def parse_dates(run_date: str | None, start: str | None, end: str | None) -> list[date]:
    from coretelecoms.runner import dates_between

    if run_date and not (start or end):
        return [iso_date(run_date, "--date")]
    if start and end and not run_date:
        try:
            return dates_between(iso_date(start, "--start"), iso_date(end, "--end"))
        except ValueError as exc:
            raise fail(str(exc), 2) from None
    raise fail("give either --date D, or --start D and --end D", 2)


def run_layers(
    s: Settings,
    layers: list[str],
    dates: list,
    *,
    resume: bool = False,
    rebuild: bool = False,
    landing_range: tuple[date, date] | None = None,
    shown: LayerProgress | None = None,
) -> list:
    """Run each layer for each date in order; stop at the first failure.

    With `resume`, a date × layer the ledger shows as completed is skipped (backfills restart where they
    failed). `rebuild` recomputes gold from silver. `landing_range` lands a whole range in one pass (each
    object and table of the range not yet landed, as jobs/landing.py does), not date by date. A layer that
    raises is recorded in the ledger as failed, never lost in a traceback.
    """
    from coretelecoms.context import new_run_id
    from coretelecoms.ops.runlock import LockHeld
    from coretelecoms.runner import LayerNotBuilt, PreflightError, hold_locks, layer_function, start_context

    try:
        functions = {layer: layer_function(layer) for layer in layers}
    except LayerNotBuilt as exc:
        raise fail(str(exc), 3) from None
    if rebuild:
        functions["gold"] = functools.partial(functions["gold"], rebuild=True)
    if landing_range:
        functions["landing"] = functools.partial(
            functions["landing"], start=landing_range[0], end=landing_range[1]
        )
    first_run = new_run_id(layers[0])
    try:
        locks = hold_locks(s, layers, first_run)
    except LockHeld as exc:
        raise fail(str(exc), 1) from None
    with locks:
        try:
            ctx = start_context(s, layers)
        except PreflightError as exc:
            raise fail(str(exc), 1) from None
        return _run_each(ctx, layers, dates, functions, resume, shown, first_run)


def _run_each(ctx, layers, dates, functions, resume, shown, first_run) -> list:
    from coretelecoms.ops import ledger
    from coretelecoms.ops.runlock import LockHeld
    from coretelecoms.runner import LayerRun, run_recorded

    runs = []
    pending = [first_run]  # the run the locks name already
    # A caller running several calls (the benchmark) passes one display for all of them.
    with contextlib.nullcontext(shown) if shown else layer_progress(len(dates) * len(layers)) as shown:
        for run_date in dates:
            for layer in layers:
                ctx = ctx.for_layer(layer, pending.pop() if pending else "")
                shown.start(layer, run_date)
                if resume and run_date is not None and ledger.completed(ctx, layer, run_date):
                    console.print(
                        f"[dim]{layer} {run_date}: already completed (ledger); --force reruns it[/dim]"
                    )
                    shown.done()
                    continue
                began = time.perf_counter()
                try:
                    entries = run_recorded(ctx, layer, functions[layer], run_date, log)
                except LockHeld as exc:  # another run holds the layer: one line, exit 1
                    raise fail(str(exc), 1) from None
                run = LayerRun(layer, run_date, ctx.run_id, time.perf_counter() - began, entries)
                runs.append(run)
                print_run(run)
                shown.done()
                if run.failed:
                    return runs
    return runs


def layer_progress(total: int) -> LayerProgress:
    """The display for `total` layer runs: JSON-log mode logs, a terminal gets a bar, anything else lines."""
    mode = "json" if _state.get("json") else "live" if console.is_terminal else "plain"
    return LayerProgress(total, console, mode, log)


def print_run(run) -> None:
    table = Table(title=f"{run.layer} {run.run_date or ''}  ({run.seconds:.1f}s, run {run.run_id})")
    for col in ("source", "files", "rows in", "rows out", "rejected", "status", "error"):
        table.add_column(col, justify="right" if col.startswith(("rows", "files", "rej")) else "left")
    for e in run.entries:
        style = {"failed": "red", "warn": "yellow"}.get(e.status, "")
        table.add_row(
            e.source,
            str(e.files),
            f"{e.rows_in:,}",
            f"{e.rows_out:,}",
            f"{e.rejected:,}",
            e.status,
            (e.error or "")[:120],
            style=style,
        )
    console.print(table)


@app.command()
def run(
    layer: Annotated[str, typer.Argument(help="landing | bronze | silver | gold | publish | all")],
    run_date: Annotated[str | None, typer.Option("--date", help="Drop date YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option(help="First date of a range.")] = None,
    end: Annotated[str | None, typer.Option(help="Last date of a range.")] = None,
    force: Annotated[
        bool, typer.Option(help="With `all`: rerun dates the ledger shows as completed.")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option(help="With `gold`: recompute every gold table from silver (identical result).")
    ] = False,
):
    """Run a layer (or the whole daily chain with `all`) for a date or a range of dates.

    `all` is a resumable backfill: dates run in order, and a date × layer already completed in the run
    ledger is skipped unless --force. `maintenance` needs no date.
    """
    from coretelecoms.runner import LAYERS, expand

    if layer != "all" and layer not in LAYERS:
        raise fail(f"unknown layer {layer!r}; choose from {', '.join(LAYERS + ['all'])}", 2)
    if rebuild and layer != "gold":
        raise fail("--rebuild applies to gold only: coretelecoms run gold --rebuild --date D", 2)
    if layer == "maintenance" and not (run_date or start or end):
        dates = [None]
    else:
        dates = parse_dates(run_date, start, end)
    landing_range = None
    if layer == "landing" and start and end:
        landing_range, dates = (dates[0], dates[-1]), [None]
    runs = run_layers(
        settings(),
        expand(layer),
        dates,
        resume=layer == "all" and not force,
        rebuild=rebuild,
        landing_range=landing_range,
    )
    done = [r for r in runs if not r.failed]
    console.print(f"{len(done)} layer run(s) completed" + (", 1 failed" if len(done) < len(runs) else ""))
    if any(r.failed for r in runs):
        raise typer.Exit(1)


# ---------------------------------------------------------------- tables


def print_tables(s: Settings) -> None:
    from rich import box

    from coretelecoms.ops.overview import tables as lake_tables

    table = Table(
        title=f"Delta tables under {s.lake.root} (commits in UTC)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("table", no_wrap=True)
    for col in ("version", "rows", "files"):
        table.add_column(col, justify="right")
    table.add_column("last commit")
    for t in lake_tables(s):
        when = t.committed_at.strftime("%m-%d %H:%M")
        table.add_row(t.name, str(t.version), f"{t.rows:,}", str(t.files), f"{when} {t.operation}")
    console.print(table)


@app.command()
def tables():
    """Every Delta table in the lake: version, rows, files, last commit (read with delta-rs, no Spark)."""
    print_tables(settings())


# ---------------------------------------------------------------- status


@app.command()
def status(
    limit: Annotated[int, typer.Option(help="How many layer × date rows to show.")] = 30,
):
    """The latest run of each layer and date from the run ledger: rows, duration, failures (no Spark)."""
    from rich import box

    from coretelecoms.ops.overview import latest_runs, ledger_rows

    runs = latest_runs(ledger_rows(settings()), limit)
    # Fits 80 columns with whole run ids: the layer is the run id's first word, errors go below.
    table = Table(
        title="Latest runs per layer and date (run ledger _ops.runs)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("date", no_wrap=True)
    table.add_column("run id", no_wrap=True)
    for col in ("rows out", "rejected", "secs"):
        table.add_column(col, justify="right")
    table.add_column("status")
    for r in runs:
        table.add_row(
            str(r.run_date or "-"),
            r.run_id,
            f"{r.rows_out:,}",
            f"{r.rejected:,}",
            f"{r.seconds:.1f}",
            "[red]failed[/red]" if r.error else "[yellow]warn[/yellow]" if r.warning else "[green]ok[/green]",
        )
    console.print(table)
    for r in runs:
        if r.error:
            console.print(f"[red]{r.run_id}[/red] {r.error[:300]}", soft_wrap=True)
        elif r.warning:
            console.print(f"[yellow]{r.run_id}[/yellow] {r.warning[:300]}", soft_wrap=True)
    if not runs:
        console.print("no runs recorded yet (coretelecoms run all --start D --end D)")


# ---------------------------------------------------------------- quality


@quality_app.command("check")
def quality_check(
    table: Annotated[
        list[str] | None, typer.Option("--table", help="Only this table (repeatable). Default: every one.")
    ] = None,
):
    """Run the full whole-table suites of silver and gold (every stored row; daily runs check whole tables
    at the cost of their batch, maintenance runs these too). Results go to the Data Docs and
    _quality.metrics; exit 1 when a gating expectation fails."""
    from coretelecoms.context import RunContext
    from coretelecoms.ops.table_suites import run_table_suites

    ctx = RunContext.create(settings(), "quality")
    try:
        results = run_table_suites(ctx, None, table or None)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    out = Table(title=f"Full table suites ({ctx.run_id})")
    for col in ("table", "suite", "passed", "failed expectations"):
        out.add_column(col)
    bad = False
    for name, rs in results.items():
        for r in rs:
            failed = ", ".join(c.name + ("" if c.gate else " (warn)") for c in r.results if not c.success)
            bad = bad or bool(r.gating_failures)
            out.add_row(name, r.suite, "no" if r.gating_failures else "yes", failed or "-")
    console.print(out)
    if bad:
        raise typer.Exit(1)


@quality_app.command("docs")
def quality_docs(
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in a browser.")] = False,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the site on localhost until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (0 = any free port).")] = 8765,
    download: Annotated[
        Path | None, typer.Option("--download", help="s3:// lake: copy the site into this folder.")
    ] = None,
    expires: Annotated[int, typer.Option(help="s3:// lake: seconds the pre-signed URL stays valid.")] = 3600,
):
    """Where to read the quality reports: the summary page (each table's latest run, rules broken,
    quarantine) and the Data Docs index. For an s3:// lake, a pre-signed URL of the summary on S3 (the Data
    Docs pages and their assets are separate objects: read the whole site with --download DIR)."""
    from coretelecoms.quality.docs_site import serve_folder
    from coretelecoms.quality.gx import docs_index, quality_root
    from coretelecoms.quality.remote import SITE_DIR, SUMMARY, download_site, quality_site, site_index

    s = settings()
    try:
        if s.is_local:
            index = docs_index(s)
            page = quality_root(s) / SUMMARY
        else:
            site = quality_site(s.lake.root)
            if download is None:
                key = site_index(site)
                for label, what in (("summary:  ", SUMMARY), ("data docs:", key)):
                    console.print(
                        f"{label} {site.presigned_url(what, expires)}", soft_wrap=True, highlight=False
                    )
                return
            page = download_site(site, download)
            index = page.parent / SITE_DIR / "index.html"
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    console.print(f"summary:   {page}\ndata docs: {index}", soft_wrap=True, highlight=False)
    if serve:
        serve_folder(page.parent, port, console.print)
    elif open_browser:
        import webbrowser

        webbrowser.open((page if page.is_file() else index).as_uri())


# ---------------------------------------------------------------- erasure


@app.command()
def erase(
    customer_id: Annotated[str, typer.Option("--customer-id", help="The customer's UUID.")],
    request_id: Annotated[
        str | None, typer.Option(help="Your GDPR request reference, kept in the audit.")
    ] = None,
):
    """GDPR erasure: remove a customer and their complaints from the lake and Snowflake, audited without PII."""
    from coretelecoms.context import RunContext
    from coretelecoms.ops.erasure import ErasureError, erase_customer

    ctx = RunContext.create(settings(), "erasure")
    try:
        result = erase_customer(ctx, customer_id, request_id=request_id)
    except ErasureError as exc:
        raise fail(str(exc), 2) from None
    table = Table(title=f"Erasure {result['request_id']}  (warehouse: {result['warehouse']})")
    table.add_column("table")
    table.add_column("rows deleted", justify="right")
    for name, n in sorted(result["deleted"].items()):
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print("Old files stay until VACUUM passes the retention: run `coretelecoms run maintenance`.")
    if result["warehouse"].startswith("failed"):
        raise fail(
            f"the lake is erased but the warehouse is not ({result['warehouse']}); "
            "the deletes wait in gold's change feed: fix the warehouse, then `coretelecoms run publish --date D`"
        )


# ---------------------------------------------------------------- warehouse


def print_query(s: Settings, sql: str, title: str | None = None) -> None:
    from coretelecoms.publish.warehouse import connect

    with connect(s.warehouse, "coretelecoms:cli:sql") as conn:
        cur = conn.cursor()
        cur.execute(sql)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
    table = Table(title=title or f"{s.warehouse.kind}: {s.warehouse.database}.{s.warehouse.schema_name}")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


@warehouse_app.command("sql")
def warehouse_sql(query: Annotated[str, typer.Argument(help="SQL to run on the configured warehouse.")]):
    """Run a query on the configured warehouse (fakesnow locally) and print the result as a table."""
    s = settings()
    try:
        print_query(s, query)
    except Exception as exc:
        raise fail(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None


# ---------------------------------------------------------------- bench and demo

BACKLOG_SQL = """
SELECT c.COMPLAINT_CATEGORY,
       COUNT(*) AS COMPLAINTS,
       ROUND(100.0 * SUM(CASE WHEN f.RESOLUTION_STATUS = 'Backlog' THEN 1 ELSE 0 END) / COUNT(*), 1) AS BACKLOG_PCT,
       ROUND(100.0 * AVG(CASE WHEN f.IS_RESOLVED THEN 1 ELSE 0 END), 1) AS RESOLVED_PCT
FROM FCT_COMPLAINT f JOIN DIM_COMPLAINT_CATEGORY c ON c.CATEGORY_KEY = f.CATEGORY_KEY
GROUP BY c.COMPLAINT_CATEGORY ORDER BY BACKLOG_PCT DESC
"""


@app.command()
def bench(
    scale: Annotated[float, typer.Option(help="1.0 = one real day.")] = 1.0,
    days: Annotated[int, typer.Option(help="Daily drops to generate and run.")] = 4,
    seed: Annotated[int, typer.Option()] = 42,
    out: Annotated[Path | None, typer.Option(help="Where to write the figures as JSON.")] = None,
):
    """Generate sources, then run every built layer day by day: wall time, rows/s and peak RSS per step."""
    from coretelecoms.bench import run_bench

    s = settings()
    report = run_bench(s, scale=scale, days=days, seed=seed, console=console)
    out = out or s.data_dir / "bench" / f"bench-scale{scale:g}-days{days}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    console.print(f"figures written to {out}")


@app.command()
def demo(
    scale: Annotated[float | None, typer.Option(help="Default: generator.scale from settings.")] = None,
):
    """Generate the sources at the default scale, run every built layer for each day, say where to look."""
    from coretelecoms.runner import available_chain

    s = settings()
    g = s.generator
    began = time.perf_counter()
    manifest = generate_sources(
        s, scale=scale if scale is not None else g.scale, start=g.start, days=g.days, seed=g.seed, messy=0.0
    )
    print_manifest(manifest, time.perf_counter() - began)
    chain = available_chain()
    dates = sorted({date.fromisoformat(i["date"]) for i in manifest["files"].values() if i.get("date")})
    if chain:
        runs = run_layers(s, chain, dates)
        if any(r.failed for r in runs):
            raise typer.Exit(1)
        print_tables(s)
    if "publish" in chain:
        print_query(s, BACKLOG_SQL, "Warehouse: complaint categories by backlog share (fakesnow)")
    console.print("\n[bold]Where to look[/bold]")
    console.print(f"  sources:   {s.data_dir / 'sources'}  (manifest.json lists every file, table and count)")
    console.print(f"  postgres:  {s.sources.postgres.pgdata}  (schema customer_complaints)")
    if chain:
        console.print(f"  lake:      {s.lake.root}  (coretelecoms tables, coretelecoms status)")
    if "gold" in chain:
        console.print(f"  notebooks: {Path('notebooks').resolve()}  (explore the lake, complaint insights)")
    if "publish" in chain:
        console.print(f'  warehouse: {s.warehouse.path}  (coretelecoms warehouse sql "SELECT …")')
    if "silver" in chain:
        console.print(
            f"  quality:   {Path(s.lake.root) / '_quality' / 'index.html'}  (summary; coretelecoms quality docs)"
        )
        console.print(f"  data docs: {Path(s.lake.root) / '_quality' / 'data_docs' / 'index.html'}")
    not_built = [layer for layer in ("bronze", "silver", "gold", "publish") if layer not in chain]
    if not_built:
        console.print(f"  not built yet: {', '.join(not_built)}")
