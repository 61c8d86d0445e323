"""The benchmark harness itself works: its baselines, at a tiny size, produce a table of real numbers."""

import asyncio
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    # `python -m tests.bench` imports this package from the checkout; pytest's importlib mode does not
    # put the checkout on sys.path when started as `.venv/bin/pytest`.
    sys.path.insert(0, str(REPO))

from tests.bench.bench_cli import parse, run  # noqa: E402
from tests.bench.bench_report import text_table  # noqa: E402
from tests.bench.bench_stack import BenchStack  # noqa: E402
from tests.bench.bench_statements import markdown as statements_markdown  # noqa: E402

TINY = ["--kafka-events", "200", "--insert-rows", "500", "--timers", "2000", "--timer-steady-rate", "200",
        "--timer-steady-seconds", "1", "--http-calls", "100", "--http-concurrency", "10"]
BASELINES = ("baseline.kafka_produce", "baseline.kafka_consume", "baseline.pg_insert", "baseline.skip_locked",
             "baseline.skip_locked_steady", "baseline.http")


def test_quick_baselines_print_a_table_of_numbers_and_write_the_document(tmp_path):
    out = tmp_path / "benchmarks.md"
    results = run(parse(["--quick", "--only", "baselines", "--unsafe-fast-postgres", "--out", str(out), *TINY]))

    assert [key for key in BASELINES if results[key].rate is None] == []
    assert results["baseline.skip_locked_steady"].extra["p99_ms"] >= 0
    table = text_table(results)
    for key in BASELINES:
        line = next(line for line in table.splitlines() if line.startswith(results[key].name))
        assert re.search(r"\d[\d,]* (events|actions|calls|messages|reminders|loans)/s", line), line
    document = out.read_text()
    assert "## Machine" in document and "| PostgreSQL |" in document
    assert results["baseline.kafka_produce"].name in document


def test_pg_statements_lists_a_databases_own_statements_by_time():
    stack = BenchStack.start(durable=False, statements=True)
    try:
        statements = asyncio.run(_statements_of_a_small_workload(stack))
    finally:
        stack.stop()

    inserts = [s for s in statements if s.query.startswith("INSERT INTO bench_probe")]
    assert len(inserts) == 1 and inserts[0].calls == 3 and inserts[0].rows == 3_000
    assert all("pg_database" not in s.query for s in statements)  # the admin's own reads are elsewhere
    assert not any("CREATE TABLE" in s.query or "VALUES" in s.query for s in statements)  # before the reset
    assert 0 < inserts[0].share <= 1
    section = statements_markdown({"probe": statements})
    assert "### probe" in section and "| 3 | 3,000 |" in section
    assert "| postgres | `INSERT INTO bench_probe SELECT generate_series($1, $2)` |" in section


def test_explain_logs_the_plans_of_slower_statements_and_keeps_the_servers_log():
    stack = BenchStack.start(durable=False, statements=True, explain_ms=0)
    try:
        asyncio.run(_statements_of_a_small_workload(stack))
    finally:
        stack.stop(keep_logs=True)
    try:
        server_log = (stack.root / "postgres.log").read_text(errors="replace")
        assert "Query Text: INSERT INTO bench_probe SELECT generate_series(1, 1000)" in server_log
        assert "Insert on bench_probe" in server_log and "actual" in server_log  # analysed: rows as executed
    finally:
        shutil.rmtree(stack.root, ignore_errors=True)


async def _statements_of_a_small_workload(stack: BenchStack) -> list:
    database, _ = await stack.create_database()
    connection = await stack.connect(database)
    try:
        await connection.execute("CREATE TABLE bench_probe (n int)")
        await connection.execute("INSERT INTO bench_probe VALUES (0)")
        await stack.forget_statements(database)
        for _ in range(3):
            await connection.execute("INSERT INTO bench_probe SELECT generate_series(1, 1000)")
    finally:
        await connection.close()
    return await stack.top_statements(database)


def test_a_step_not_yet_timed_is_left_out_of_its_figures_not_the_measurement():
    from datetime import timedelta

    from tests.bench.bench_services import _steps

    class Rows:
        async def fetch(self, query, prefix):
            return [{"relay": timedelta(milliseconds=10), "wait": None}, {"relay": timedelta(milliseconds=30), "wait": timedelta(milliseconds=5)}]

    [line] = asyncio.run(_steps(Rows(), "steady-x"))
    assert line.startswith("steps p50/p99 ms over 2 loans: relay ") and "wait 5/5" in line
