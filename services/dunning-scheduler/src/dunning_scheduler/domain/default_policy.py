"""The default policy: common practice of Chinese consumer credit, as data (see docs/policy/).
Template names are those notification knows; it falls back to a stage's usual wording for others."""

from decimal import Decimal

from dunning_scheduler.domain.policy import Action, EntryRule, Policy, PreDueReminder, StagePolicy

REMINDER = StagePolicy(
    name="reminder",
    actions=[
        Action(channel="sms", template="overdue_reminder", day=1),
        Action(channel="push", template="overdue_reminder", day=1),
        Action(channel="sms", template="overdue_reminder", day=3, repeat_every_days=4, max_count=4),
        Action(channel="email", template="overdue_notice", day=5, repeat_every_days=5, max_count=2),
    ],
)

PHONE = StagePolicy(
    name="phone",
    entry=[EntryRule(min_days_past_due=16)],
    actions=[
        Action(kind="agent_call", template="collection_call", day=16, repeat_every_days=2, max_count=8),
        Action(channel="voice", template="overdue_reminder", day=16, repeat_every_days=3, max_count=5),
        Action(channel="sms", template="overdue_notice", day=17, repeat_every_days=7, max_count=2),
    ],
)

FIELD_VISIT = StagePolicy(
    name="field_visit",
    entry=[EntryRule(min_days_past_due=31, min_overdue_amount=Decimal("5000"))],
    actions=[
        Action(kind="field_visit", template="field_visit", day=31, repeat_every_days=14, max_count=4),
        Action(channel="letter", template="overdue_notice", day=31),
        Action(kind="agent_call", template="collection_call", day=33, repeat_every_days=4, max_count=14),
    ],
)

LEGAL = StagePolicy(
    name="legal",
    entry=[EntryRule(min_days_past_due=90), EntryRule(min_broken_promises=2)],
    actions=[Action(channel="letter", template="legal_notice", day=90)],
)

DEFAULT_POLICY = Policy(
    name="default: Chinese consumer credit",
    description=(
        "SMS 3 days and 1 day before each due date; SMS and app push on day 1; SMS and e-mail within "
        "the caps up to day 15; phone stage (agent calls and voice reminders) from day 16; field visit "
        "from day 31 when 5000 or more is overdue; legal from day 90, or after two broken promises."
    ),
    pre_due=[
        PreDueReminder(days_before=3, channel="sms", template="pre_due_reminder"),
        PreDueReminder(days_before=1, channel="sms", template="pre_due_reminder"),
    ],
    stages=[REMINDER, PHONE, FIELD_VISIT, LEGAL],
)
