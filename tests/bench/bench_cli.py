"""`python -m tests.bench [--quick] [--only SECTIONS] [--<size> N ...]`: run, print the table, write
docs/benchmarks.md and its charts."""

import argparse
import asyncio
import logging
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from dunning_platform.devstack.state import repo_root

from . import bench_baselines as baselines
from . import bench_services as services
from .bench_scheduler import scheduler_scaled, scheduler_timers
from .bench_context import Bench
from .bench_events import daytime_zone
from .bench_machine import describe, load_average
from .bench_methods import METHODS
from .bench_profile import available as profile_available
from .bench_profile import markdown as profile_markdown
from .bench_report import charts, document, text_table
from .bench_results import NotMeasured, Result, skipped
from .bench_sizes import QUICK, Sizes, all_fields, env_name, option_name, resolve
from .bench_stack import BenchStack
from .bench_statements import markdown as statements_markdown


@dataclass(frozen=True)
class Planned:
    key: str
    name: str
    baseline: str | None = None
    goal: str = ""


@dataclass(frozen=True)
class Measurement:
    section: str
    run: object  # async (Bench) -> list[Result]
    produces: tuple[Planned, ...]


PLAN = (
    Measurement("baselines", baselines.kafka_produce_and_consume, (
        Planned("baseline.kafka_produce", "raw aiokafka produce"),
        Planned("baseline.kafka_consume", "raw aiokafka consume + json parse"))),
    Measurement("baselines", baselines.asyncpg_insert, (Planned("baseline.pg_insert", "bare asyncpg executemany"),)),
    Measurement("baselines", baselines.skip_locked_loop, (
        Planned("baseline.skip_locked", "bare SKIP LOCKED claim loop"),
        Planned("baseline.skip_locked_steady", "bare SKIP LOCKED loop, steady"))),
    Measurement("baselines", baselines.raw_http, (Planned("baseline.http", "raw httpx calls to the provider"),)),
    Measurement("ingestion", services.ingestion_kafka, (Planned(
        "ingestion.kafka", "ingestion via Kafka", "baseline.kafka_produce", ">= 20,000/s and >= 25%"),)),
    Measurement("ingestion", services.ingestion_http, (Planned(
        "ingestion.http", "ingestion via HTTP batch", "baseline.kafka_produce", ""),)),
    Measurement("scheduler", scheduler_timers, (
        Planned("scheduler.timers", "scheduler firing due timers", "baseline.skip_locked", ">= 10,000/s and >= 50%"),
        Planned("scheduler.timers_steady", "scheduler timers, steady", "baseline.skip_locked_steady",
                "p99 lateness < 1 s"),
        Planned("baseline.skip_locked_outbox", "bare SKIP LOCKED loop + outbox rows, scheduler's table"))),
    Measurement("notification", services.notification_send, (Planned(
        "notification.send", "notification: guard + provider", "baseline.http", ">= 2,000/s and >= 50%"),)),
    Measurement("scaling", services.ingestion_kafka_scaled, (Planned(
        "ingestion.kafka.scaled", "ingestion via Kafka, N replicas", "ingestion.kafka", "ratio = scaling factor"),)),
    Measurement("scaling", scheduler_scaled, (Planned(
        "scheduler.timers.scaled", "scheduler firing, N replicas", "scheduler.timers", "ratio = scaling factor"),)),
    Measurement("scaling", services.notification_scaled, (Planned(
        "notification.send.scaled", "notification, N replicas", "notification.send", "ratio = scaling factor"),)),
    Measurement("pipeline", services.pipeline, (
        Planned("pipeline.burst", "pipeline: loans overdue at once", "baseline.slowest", ">= 5,000 loans/s"),
        Planned("pipeline.steady", "pipeline: steady LoanOverdue->ReminderSent", "baseline.slowest",
                "p99 < 250 ms at 1,000 loans/s"))),
)
SECTIONS = ("baselines", "ingestion", "scheduler", "notification", "scaling", "pipeline")


async def run_plan(bench: Bench, sections: set[str]) -> dict[str, Result]:
    for measurement in PLAN:
        if measurement.section not in sections:
            continue
        for result in await _run_one(bench, measurement):
            bench.results[result.key] = result
            bench.say(f"  {result.name}: " + (f"not measured: {result.skipped}" if result.skipped
                                              else f"{result.rate:,.0f} {result.unit}"))
    return bench.results


async def _run_one(bench: Bench, measurement: Measurement) -> list[Result]:
    """The measurement's results; what it could not produce comes back as 'not measured: <reason>'."""
    names = ", ".join(p.name for p in measurement.produces)
    bench.current = names
    bench.say(f"measuring {names}")
    started = time.perf_counter()
    try:
        produced = {r.key: r for r in await measurement.run(bench)}
        reason = "the measurement did not report it"
    except NotMeasured as error:
        produced, reason = {}, str(error)
    except Exception as error:  # noqa: BLE001 - one broken measurement must not hide the others
        traceback.print_exc()
        produced, reason = {}, f"failed: {type(error).__name__}: {str(error)[:200]}"
    bench.say(f"  ({time.perf_counter() - started:.1f} s)")
    results = []
    for planned in measurement.produces:
        result = produced.get(planned.key) or skipped(planned.key, planned.name, reason)
        result.baseline, result.goal = _baseline_of(planned, bench.results), planned.goal
        results.append(result)
    return results


def _baseline_of(planned: Planned, results: dict[str, Result]) -> str | None:
    # The whole pipeline cannot beat its slowest bare step, so that is what it is a ratio of.
    if planned.baseline != "baseline.slowest":
        return planned.baseline
    measured = [r for key, r in results.items() if key in SLOWEST_OF and r.rate]
    return min(measured, key=lambda r: r.rate).key if measured else None


SLOWEST_OF = ("baseline.kafka_produce", "baseline.kafka_consume", "baseline.pg_insert", "baseline.skip_locked",
              "baseline.http")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes that check the harness (under 2 minutes)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=repo_root() / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--profile", action="store_true",
                        help="sample each service process with py-spy and write where the time goes")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs and print where")
    parser.add_argument("--pg-statements", action="store_true",
                        help="preload pg_stat_statements and write each measurement's top statements")
    parser.add_argument("--explain-slower-than", type=int, metavar="MS", dest="explain_ms",
                        help="log the plan of every statement slower than MS ms (auto_explain) to the server's "
                             "log, kept as postgres.log with --keep-logs")
    parser.add_argument("--unsafe-fast-postgres", action="store_true",
                        help="fsync and synchronous_commit off, as the test fixtures run it (default: durable)")
    for name in all_fields():
        parser.add_argument(option_name(name), type=int, dest=name, help=f"or {env_name(name)}")
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace) -> dict[str, Result]:
    sizes = resolve(QUICK if arguments.quick else Sizes(), vars(arguments))
    sections = {s.strip() for s in arguments.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    load_at_start = load_average()
    stack = BenchStack.start(durable=not arguments.unsafe_fast_postgres, statements=arguments.pg_statements,
                             explain_ms=arguments.explain_ms)
    try:
        bench = Bench(stack, sizes, daytime_zone(), profile=arguments.profile and _can_profile(),
                      statements=arguments.pg_statements)
        results = _event_loop_run(run_plan(bench, sections))
        machine = describe(_event_loop_run(stack.server_version()), load_at_start)
    finally:
        stack.stop(keep_logs=arguments.keep_logs)
    print()
    print(text_table(results))
    where = "\n\n".join(filter(None, [profile_markdown(bench.profiles) if bench.profiles else "",
                                      statements_markdown(bench.top_statements)]))
    if where:
        print("\n" + where)
    if not arguments.no_write:
        _write(arguments, results, machine, sizes, where)
    return results


def _can_profile() -> bool:
    if not profile_available():
        print("--profile: py-spy is not installed; measuring without it", flush=True)
        return False
    return True


def _event_loop_run(coroutine):
    # The services run on uvloop (uvicorn picks it when installed); so do the baselines, for a fair ratio.
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def _write(
    arguments: argparse.Namespace, results: dict[str, Result], machine: dict[str, str], sizes: Sizes, where: str
) -> None:
    out: Path = arguments.out
    images = charts(results, out.with_suffix(""))
    mode = "quick mode" if arguments.quick else "full run"
    if arguments.unsafe_fast_postgres:
        mode += ", PostgreSQL with fsync off"
    command = "python -m tests.bench " + " ".join(sys.argv[1:]) if sys.argv[1:] else "make bench"
    text = document(results, machine, mode=mode, command=command.strip(), sizes=asdict(sizes), images=images,
                    docs=out, methods=METHODS + ("\n" + where if where else ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"\nwrote {out}" + (f" and {len(images)} chart(s)" if images else " (no charts: matplotlib is not installed)"))


def _interrupt(signum, _frame) -> None:
    # SIGTERM (a timeout, a CI cancel) unwinds like Ctrl-C, so the embedded PostgreSQL, which would
    # outlive this process, is stopped by the stack's cleanup.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run(parse(argv))
    except KeyboardInterrupt:
        print("interrupted; the stack was stopped", file=sys.stderr)
        return 130
    return 0
