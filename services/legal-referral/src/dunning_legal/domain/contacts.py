"""Every contact with the borrower on record: the automated reminders and the agents' calls and field
visits, in one list told apart by kind (and by channel: a reminder's is never phone or field)."""

REMINDER = "reminder"
# The scheduler reports an agent's task by channel; its task kinds are these.
AGENT_KIND_OF_CHANNEL = {"phone": "agent_call", "field": "field_visit"}
KINDS = (REMINDER, *AGENT_KIND_OF_CHANNEL.values())


def agent_kind(channel: str) -> str:
    return AGENT_KIND_OF_CHANNEL[channel]


def is_agent_contact(kind: str) -> bool:
    return kind != REMINDER
