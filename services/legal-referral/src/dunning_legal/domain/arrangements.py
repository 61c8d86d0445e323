"""Promises to pay, holds and repayment plans of a loan, as its case events tell them: each one with
what was agreed and how it ended (kept, broken, released, completed), for the evidence file.

The events are facts with their own times; a status is the last outcome that occurred, so an
outcome that arrives late, or twice, leaves the same file."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

PROMISE_TYPES = ("PromiseMade", "PromiseKept", "PromiseBroken")
HOLD_TYPES = ("HoldPlaced", "HoldReleased")
PLAN_TYPES = ("PlanAgreed", "PlanCompleted", "PlanBroken")
# What a case event is about: its type's family and the field naming the promise, hold or plan.
_KEY_OF_FAMILY = {"promises": "promise_id", "holds": "hold_id", "plans": "plan_id"}
_FAMILY_OF_TYPE = {
    **{name: "promises" for name in PROMISE_TYPES},
    **{name: "holds" for name in HOLD_TYPES},
    **{name: "plans" for name in PLAN_TYPES},
}


@dataclass(frozen=True)
class CaseFact:
    """One case event as recorded: its type, its reference (source#id), when it occurred, its data."""

    type: str
    event: str
    occurred_at: datetime
    data: dict[str, Any]


def arrangements(facts: Iterable[CaseFact]) -> dict[str, list[dict[str, Any]]]:
    """The promises, holds and plans the facts tell of, each list in the order they were made."""
    grouped: dict[tuple[str, str], list[CaseFact]] = {}
    for fact in sorted(facts, key=lambda f: f.occurred_at):
        family = _FAMILY_OF_TYPE[fact.type]
        grouped.setdefault((family, fact.data[_KEY_OF_FAMILY[family]]), []).append(fact)
    result: dict[str, list[dict[str, Any]]] = {family: [] for family in _KEY_OF_FAMILY}
    for (family, _), group in grouped.items():
        result[family].append(_BUILDERS[family](group))
    return result


def _promise(facts: list[CaseFact]) -> dict[str, Any]:
    made, outcome = _first(facts, "PromiseMade"), _last(facts, "PromiseKept", "PromiseBroken")
    terms = made.data if made else {}
    return {
        "promise_id": facts[0].data["promise_id"],
        "case_id": facts[0].data["case_id"],
        "made_at": _when(made),
        "amount": terms.get("amount"),
        "currency": terms.get("currency"),
        "promised_date": terms.get("promised_date"),
        "taken_by": terms.get("taken_by"),
        "status": {"PromiseKept": "kept", "PromiseBroken": "broken"}.get(outcome.type) if outcome else "open",
        "status_at": _when(outcome),
        "broken_promises": outcome.data.get("broken_promises") if outcome else None,
        "events": [fact.event for fact in facts],
    }


def _hold(facts: list[CaseFact]) -> dict[str, Any]:
    placed, released = _first(facts, "HoldPlaced"), _last(facts, "HoldReleased")
    terms = placed.data if placed else {}
    return {
        "hold_id": facts[0].data["hold_id"],
        "case_id": facts[0].data["case_id"],
        "reason": facts[0].data["reason"],
        "placed_at": _when(placed),
        "placed_by": terms.get("placed_by"),
        "expires_at": terms.get("expires_at"),
        "status": "released" if released else "placed",
        "released_at": _when(released),
        "released_because": released.data["released_because"] if released else None,
        "events": [fact.event for fact in facts],
    }


def _plan(facts: list[CaseFact]) -> dict[str, Any]:
    agreed, outcome = _first(facts, "PlanAgreed"), _last(facts, "PlanCompleted", "PlanBroken")
    terms = agreed.data if agreed else {}
    installments = terms.get("installments", [])
    return {
        "plan_id": facts[0].data["plan_id"],
        "case_id": facts[0].data["case_id"],
        "agreed_at": _when(agreed),
        "agreed_by": terms.get("agreed_by"),
        "currency": terms.get("currency"),
        "installments": installments,
        "total": str(sum((Decimal(i["amount"]) for i in installments), Decimal(0))) if agreed else None,
        "status": {"PlanCompleted": "completed", "PlanBroken": "broken"}.get(outcome.type) if outcome else "active",
        "status_at": _when(outcome),
        "missed_seq": outcome.data.get("missed_seq") if outcome else None,
        "events": [fact.event for fact in facts],
    }


_BUILDERS = {"promises": _promise, "holds": _hold, "plans": _plan}


def _first(facts: list[CaseFact], *types: str) -> CaseFact | None:
    # A promise re-announced keeps the terms it was first made on.
    return next((fact for fact in facts if fact.type in types), None)


def _last(facts: list[CaseFact], *types: str) -> CaseFact | None:
    return next((fact for fact in reversed(facts) if fact.type in types), None)


def _when(fact: CaseFact | None) -> str | None:
    return fact.occurred_at.isoformat() if fact else None
