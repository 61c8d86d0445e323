"""Runs of events split so that each loan's events apply in order and no statement touches a loan twice."""

from collections.abc import Iterable


def waves(items: Iterable, loan_of) -> list[list]:
    """The n-th wave holds each loan's n-th item: no wave has two of one loan, and a loan's items keep
    their order from wave to wave. Different loans share nothing, so their order does not matter."""
    result: list[list] = []
    seen: dict[str, int] = {}
    for item in items:
        loan = loan_of(item)
        n = seen[loan] = seen.get(loan, -1) + 1
        if n == len(result):
            result.append([])
        result[n].append(item)
    return result
