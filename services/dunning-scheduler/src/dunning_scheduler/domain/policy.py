"""The dunning policy as data: stages with entry rules, the actions of each stage, pre-due reminders,
contact caps and the contact window. Validated here, so an invalid document never becomes active."""

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from dunning_contracts.events import STAGES, Channel, Stage
from dunning_contracts.types import Money

ActionKind = Literal["reminder", "agent_call", "field_visit"]
Template = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[a-z0-9_.-]+$")]


class PolicyPart(BaseModel):
    # A misspelt rule must be refused, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactWindow(PolicyPart):
    """Local hours in which actions are planned; notification still guards every send."""

    start: time = time(8, 0)
    end: time = time(21, 0)

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        # Hours on the borrower's own clock: an offset would name another zone's, and cannot be ordered.
        if value.tzinfo is not None:
            raise ValueError("a local time of day, without a UTC offset")
        return value

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> "ContactWindow":
        if self.start >= self.end:
            raise ValueError(f"contact_window: start {self.start} must be before end {self.end}")
        return self


# No window of the scheduler's own: for a borrower whose local clock it does not know yet.
ALWAYS_OPEN = ContactWindow(start=time(0, 0), end=time.max)


class Caps(PolicyPart):
    """The most reminders one borrower may be asked to receive, per local day and per 7 days."""

    per_day: int = Field(default=2, ge=1, le=10)
    per_week: int = Field(default=8, ge=1, le=50)

    @model_validator(mode="after")
    def _week_holds_a_day(self) -> "Caps":
        if self.per_week < self.per_day:
            raise ValueError(f"caps: per_week ({self.per_week}) is less than per_day ({self.per_day})")
        return self


class EntryRule(PolicyPart):
    """Every condition given must hold; a stage is entered when any of its rules holds."""

    min_days_past_due: int | None = Field(default=None, ge=0, le=3650)
    min_overdue_amount: Money | None = None
    min_broken_promises: int | None = Field(default=None, ge=1, le=100)
    # An unreachable borrower: this many failed contact attempts (no answer, wrong number) in a row.
    min_failed_contacts: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _has_a_condition(self) -> "EntryRule":
        if self.min_days_past_due is None and self.min_broken_promises is None and self.min_failed_contacts is None:
            raise ValueError("entry rule: needs min_days_past_due, min_broken_promises or min_failed_contacts")
        return self


class Action(PolicyPart):
    """Done on days-past-due `day`, then every `repeat_every_days`, `max_count` times in all."""

    kind: ActionKind = "reminder"
    channel: Channel | None = None
    template: Template
    day: int = Field(ge=0, le=3650)
    repeat_every_days: int | None = Field(default=None, ge=1, le=365)
    max_count: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _channel_matches_kind(self) -> "Action":
        if self.kind == "reminder" and self.channel is None:
            raise ValueError(f"action {self.template!r}: a reminder needs a channel")
        if self.kind != "reminder" and self.channel is not None:
            raise ValueError(f"action {self.template!r}: a {self.kind} has no channel")
        if (self.max_count > 1) != (self.repeat_every_days is not None):
            raise ValueError(f"action {self.template!r}: repeat_every_days and max_count > 1 go together")
        return self

    def days(self) -> list[int]:
        every = self.repeat_every_days or 0
        return [self.day + every * n for n in range(self.max_count)]


class StagePolicy(PolicyPart):
    name: Stage
    entry: list[EntryRule] = Field(default_factory=list, max_length=20)
    actions: list[Action] = Field(default_factory=list, max_length=50)


class PreDueReminder(PolicyPart):
    days_before: int = Field(ge=1, le=60)
    channel: Channel
    template: Template


class PlanRules(PolicyPart):
    """Repayment plans: how many instalments one may have, the reminder before each instalment, and the
    grace after its date before it is checked (kept when what was paid covers the instalments so far)."""

    max_installments: int = Field(default=24, ge=1, le=120)
    reminder_days_before: int = Field(default=2, ge=0, le=30)
    reminder_channel: Channel = "sms"
    reminder_template: Template = "plan_installment_due"
    grace_days: int = Field(default=2, ge=0, le=30)


class SegmentMatch(PolicyPart):
    """Which cases a segment takes; every condition given must hold."""

    lenders: list[str] | None = Field(default=None, max_length=100)
    products: list[str] | None = Field(default=None, max_length=100)
    min_overdue_amount: Money | None = None
    max_overdue_amount: Money | None = None
    min_days_past_due: int | None = Field(default=None, ge=0)
    max_days_past_due: int | None = Field(default=None, ge=0)
    risk_bands: list[Literal["low", "medium", "high"]] | None = None


class Segment(PolicyPart):
    """Cases it matches follow its own ladder instead of the policy's."""

    name: str = Field(min_length=1, max_length=64)
    match: SegmentMatch
    stages: list[StagePolicy] = Field(min_length=1, max_length=4)

    @model_validator(mode="after")
    def _ladder(self) -> "Segment":
        check_ladder(self.stages, f"segment {self.name!r}: ")
        return self


class Arm(PolicyPart):
    """One arm of a champion/challenger test; without stages it follows the case's usual ladder."""

    name: str = Field(min_length=1, max_length=64)
    percent: int = Field(ge=0, le=100)
    stages: list[StagePolicy] | None = Field(default=None, min_length=1, max_length=4)

    @model_validator(mode="after")
    def _ladder(self) -> "Arm":
        if self.stages:
            check_ladder(self.stages, f"arm {self.name!r}: ")
        return self


class Experiment(PolicyPart):
    name: str = Field(min_length=1, max_length=64)
    arms: list[Arm] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _split(self) -> "Experiment":
        total = sum(arm.percent for arm in self.arms)
        if total != 100:
            raise ValueError(f"experiment {self.name!r}: arm percentages add up to {total}, not 100")
        if len({arm.name for arm in self.arms}) != len(self.arms):
            raise ValueError(f"experiment {self.name!r}: arm names must differ")
        return self


def check_ladder(stages: list[StagePolicy], where: str = "") -> None:
    names = [stage.name for stage in stages]
    if names[0] != "reminder":
        raise ValueError(f"{where}stages: the first stage must be 'reminder', not {names[0]!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}stages: each stage may appear once, got {names}")
    if names != sorted(names, key=STAGES.index):
        raise ValueError(f"{where}stages: must follow the order {list(STAGES)}, got {names}")
    for stage in stages[1:]:
        if not stage.entry:
            raise ValueError(f"{where}stages: {stage.name!r} needs at least one entry rule")


class Policy(PolicyPart):
    """A whole policy document. `version` is given by the service when the document is activated."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    contact_window: ContactWindow = ContactWindow()
    caps: Caps = Caps()
    reminder_ttl_hours: int = Field(default=24, ge=1, le=24 * 14)
    promise_grace_days: int = Field(default=2, ge=0, le=30)
    pre_due: list[PreDueReminder] = Field(default_factory=list, max_length=10)
    plans: PlanRules = PlanRules()
    stages: list[StagePolicy] = Field(min_length=1, max_length=4)
    # The first segment a case matches gives its ladder; an experiment then may give it another.
    segments: list[Segment] = Field(default_factory=list, max_length=50)
    experiment: Experiment | None = None

    @model_validator(mode="after")
    def _stages_follow_the_ladder(self) -> "Policy":
        check_ladder(self.stages)
        if len({s.name for s in self.segments}) != len(self.segments):
            raise ValueError("segments: names must differ")
        return self

    def stage(self, name: Stage) -> StagePolicy:
        return next(stage for stage in self.stages if stage.name == name)


class VersionedPolicy(BaseModel):
    version: int
    policy: Policy
