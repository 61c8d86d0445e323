"""`--pg-statements`: each measurement's statements by PostgreSQL's total execution time, from
pg_stat_statements, read before the measurement's database is dropped."""

from .bench_stack import Statement

QUERY_CHARS = 160


def markdown(by_measurement: dict[str, list[Statement]]) -> str:
    if not by_measurement:
        return ""
    parts = ["## PostgreSQL's statements",
             "Share of the time PostgreSQL spent executing each measurement's statements (lock waits "
             "included), from pg_stat_statements; constants are shown as `$n`."]
    for label, statements in by_measurement.items():
        parts += [f"### {label}", _table(statements)]
    return "\n\n".join(parts) + "\n"


def _table(statements: list[Statement]) -> str:
    rows = ["| share | calls | rows | ms per call | role | statement |", "| --- | --- | --- | --- | --- | --- |"]
    for s in statements:
        rows.append(f"| {s.share:.1%} | {s.calls:,} | {s.rows:,} | {s.mean_ms:.2f} | {s.role} | `{_short(s.query)}` |")
    return "\n".join(rows)


def _short(query: str) -> str:
    text = query.replace("|", "\\|").replace("`", "'")
    return text if len(text) <= QUERY_CHARS else text[:QUERY_CHARS] + "..."
