"""Request and response bodies of the scheduler's HTTP API."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from dunning_contracts.types import Currency, Money, PositiveMoney
from dunning_scheduler.adapters.orm import AgentTask, Case, HistoryEntry, Hold, LoanHistoryEntry, RepaymentPlan, Timer
from dunning_scheduler.agent_work import OUTCOMES
from dunning_scheduler.domain.agent_contact import Wait
from dunning_scheduler.domain.borrower import known_timezone
from dunning_scheduler.domain.pauses import HOLD_REASONS
from dunning_scheduler.domain.policy import Policy
from dunning_scheduler.domain.simulation import Scenario, TimelineEntry
from dunning_scheduler.simulated_loans import KnownLoan

# PostgreSQL text cannot hold NUL: refuse it with a 422 instead of failing on the insert.
NO_NUL = r"^[^\x00]*$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromiseIn(Body):
    amount: PositiveMoney
    date: date


class PlanInstallmentIn(Body):
    due_date: date
    amount: PositiveMoney


class PlanIn(Body):
    """Instalments in date order (numbered from 1); `total` and `currency` must agree with them and the case."""

    currency: Currency
    total: PositiveMoney
    # The contract's bound; the policy's `plans.max_installments` (24 by default) is checked beside it.
    installments: list[PlanInstallmentIn] = Field(min_length=1, max_length=120)


class HoldIn(Body):
    reason: Literal[HOLD_REASONS]
    expires_at: AwareDatetime
    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class ClaimIn(Body):
    agent_id: str = Field(min_length=1, max_length=128, pattern=NO_NUL)
    kinds: list[Literal["agent_call", "field_visit"]] = Field(default=["agent_call", "field_visit"], min_length=1)
    limit: int = Field(default=1, ge=1, le=50)


class PromiseTerms(Body):
    amount: PositiveMoney
    date: date


class CompleteIn(Body):
    agent_id: str = Field(min_length=1, max_length=128, pattern=NO_NUL)
    outcome: Literal[OUTCOMES]
    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    promise: PromiseTerms | None = None
    hold_days: int | None = Field(default=None, ge=1, le=180)


def _nul_free(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_nul_free(k) and _nul_free(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_nul_free(v) for v in value)
    return True


class PolicyIn(Policy):
    """A policy document; `version`, when given, must be the active one (a guard against lost updates)."""

    version: int | None = None
    activated_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # The document is stored as JSONB, which cannot hold NUL.
        if not _nul_free(value):
            raise ValueError("the policy document must not contain NUL characters")
        return value


class LoanSituation(Body):
    """A situation by hand, or a loan the scheduler knows by `loan_id` alone: then its open case (or,
    before one, its booking) fills what is left out, and what is given wins."""

    days_past_due: int | None = Field(
        default=None, ge=-60, le=3650, description="below 1: the installment falls due in that many days"
    )
    overdue_amount: Money | None = None
    currency: Currency = "CNY"
    broken_promises: int = Field(default=0, ge=0, le=100)
    timezone: str = "Asia/Shanghai"
    loan_id: str = Field(default="simulation", min_length=1, max_length=128, pattern=NO_NUL)
    lender: str = Field(default="", max_length=128, pattern=NO_NUL)
    product: str = Field(default="", max_length=64, pattern=NO_NUL)

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str) -> str:
        if not known_timezone(value):
            raise ValueError(f"{value!r} is not an IANA time zone")
        return value

    @model_validator(mode="after")
    def _by_hand_or_a_known_loan(self) -> "LoanSituation":
        if self.from_the_loan() and "loan_id" not in self.model_fields_set:
            raise ValueError("give days_past_due and overdue_amount, or the loan_id of a loan the scheduler knows")
        return self

    def from_the_loan(self) -> bool:
        return self.days_past_due is None or self.overdue_amount is None

    def given(self) -> dict[str, Any]:
        """The situation fields the request states, by their names in the simulation's Scenario."""
        names = {"days_past_due", "overdue_amount", "broken_promises", "timezone", "lender", "product"}
        return {name: getattr(self, name) for name in self.model_fields_set & names if getattr(self, name) is not None}


class SimulateIn(Body):
    loan: LoanSituation
    days: int = Field(default=120, ge=1, le=730)
    start: AwareDatetime | None = None
    policy: Policy | None = Field(default=None, description="the active policy when left out")


def timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    view = {"at": entry.at, "day": entry.day, "kind": entry.kind, "stage": entry.stage, "reason": entry.reason}
    if entry.template:
        view |= {"channel": entry.channel, "template": entry.template}
    return view


def situation_view(scenario: Scenario, known: KnownLoan | None) -> dict[str, Any]:
    """What the dry run started from, and where it came from: the request, the loan's case, or its booking."""
    view = {
        "source": known.source if known else "request",
        "loan_id": scenario.loan_id,
        "days_past_due": scenario.days_past_due,
        "overdue_amount": str(scenario.overdue_amount),
        "broken_promises": scenario.broken_promises,
        "timezone": scenario.timezone,
        "lender": scenario.lender,
        "product": scenario.product,
        "stage": scenario.stage,
        "risk_band": scenario.risk_band,
    }
    if known and known.case is not None:
        view |= {"case_id": str(known.case.id), "case_status": known.case.status}
    return view


def case_summary(case: Case, next_action_at: datetime | None, kept_promises: int) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "loan_id": case.loan_id,
        "borrower_id": case.borrower_id,
        "lender": case.lender,
        "product": case.product,
        "status": case.status,
        "stage": case.stage,
        "days_past_due": case.days_past_due,
        "overdue_since": case.overdue_since,
        "overdue_amount": str(case.overdue_amount),
        "currency": case.currency,
        "broken_promises": case.broken_promises,
        "kept_promises": kept_promises,
        "risk": {"points": case.risk_points, "band": case.risk_band, "factors": case.risk_factors},
        "contact_outcomes": case.contact_outcomes,
        "policy_version": case.policy_version,
        "segment": case.segment,
        "arm": case.arm,
        "paused_until": case.paused_until,
        "pause_reason": case.pause_reason,
        "next_action_at": next_action_at,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "resolved_at": case.resolved_at,
        "resolution": case.resolution,
    }


def hold_view(hold: Hold) -> dict[str, Any]:
    return {
        "hold_id": str(hold.id),
        "reason": hold.reason,
        "expires_at": hold.expires_at,
        "created_at": hold.created_at,
        "released_at": hold.released_at,
        "released_because": hold.released_because,
    }


def history_view(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "kind": entry.kind,
        "stage": entry.stage,
        "policy_version": entry.policy_version,
        "reason": entry.reason,
        "details": entry.details,
    }


def fired_view(timer: Timer) -> dict[str, Any]:
    """A fired timer as a line of the case's history: the action taken, when, why, under which version."""
    p = timer.payload
    what = f"{p['channel']} reminder requested" if timer.kind == "reminder" else f"{timer.kind} task queued"
    return {
        "at": timer.fired_at,
        "kind": "reminder_requested" if timer.kind == "reminder" else "agent_task_queued",
        "stage": p.get("stage"),
        "policy_version": p.get("policy_version"),
        "reason": f"{what} ({p.get('template')}): {p.get('reason')}",
        "details": {"reminder_id": str(timer.reminder_id), "due_at": timer.due_at.isoformat()}
        if timer.kind == "reminder"
        else {"due_at": timer.due_at.isoformat()},
    }


def merged_history(entries: list[HistoryEntry], fired: list[Timer]) -> list[dict[str, Any]]:
    lines = [history_view(e) for e in entries] + [fired_view(t) for t in fired if t.kind != "review" and t.kind != "resume"]
    return sorted(lines, key=lambda line: line["at"])


def pending_view(timer: Timer) -> dict[str, Any]:
    view = {"kind": timer.kind, "due_at": timer.due_at, "reason": timer.payload.get("reason")}
    if timer.payload.get("channel"):
        view |= {"channel": timer.payload["channel"], "template": timer.payload["template"]}
    elif timer.payload.get("template"):
        view["template"] = timer.payload["template"]
    if timer.kind == "reminder":
        view["reminder_id"] = str(timer.reminder_id)
    return view


def task_view(task: AgentTask, wait: Wait | None = None) -> dict[str, Any]:
    view = {
        "task_id": str(task.id),
        "case_id": str(task.case_id),
        "loan_id": task.loan_id,
        "kind": task.kind,
        "template": task.template,
        "stage": task.stage,
        "risk_points": task.risk_points,
        "overdue_amount": str(task.overdue_amount),
        "status": task.status,
        "created_at": task.created_at,
        "claimed_by": task.claimed_by,
        "claimed_at": task.claimed_at,
        "completed_at": task.completed_at,
        "outcome": task.outcome,
    }
    if task.status == "queued":
        view["waiting"] = {"reason": wait.reason, "until": wait.until} if wait else None
    return view


def plan_view(plan: RepaymentPlan) -> dict[str, Any]:
    return {
        "plan_id": str(plan.id),
        "case_id": str(plan.case_id),
        "status": plan.status,
        "currency": plan.currency,
        "total": str(plan.total),
        "installments": plan.installments,
        "kept_installments": plan.kept_installments,
        "missed_seq": plan.missed_seq,
        "created_at": plan.created_at,
        "created_by": plan.created_by,
        "settled_at": plan.settled_at,
        "settled_because": plan.settled_because,
    }


def loan_history_view(entry: LoanHistoryEntry) -> dict[str, Any]:
    return {"at": entry.at, "kind": entry.kind, "reason": entry.reason, "details": entry.details}
