"""A borrower's recent contacts, reduced to what the guard asks: today's attempts on a channel, today's
connected calls, calls in the last 7 days, the last conversation. The caps are the borrower's across the
platform: an agent's phone call (the scheduler's ContactAttempted) counts like a voice reminder."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_notification.domain.guard import History, day_bounds

# Attempts that reached a provider count against the caps; a refusal by the guard does not.
ATTEMPTED = frozenset({"sent", "failed"})
# A delivery receipt for a call means it was answered: a connected call, a conversation.
CONNECTED = "delivered"
VOICE = "voice"
LOOKBACK = timedelta(days=8)
SENT = "sent"
# An agent's phone call is the same contact method as a voice reminder; a field visit is a method of its own.
AGENT_CHANNELS = {"phone": VOICE, "field": "field_visit"}


@dataclass(frozen=True)
class PastContact:
    channel: str
    occurred_at: datetime
    outcome: str


def summarise(contacts: list[PastContact], channel: str, timezone: str, now: datetime) -> History:
    start, end = day_bounds(now, timezone)
    today = [c for c in contacts if start <= c.occurred_at < end]
    week = [c for c in contacts if c.occurred_at >= now - timedelta(days=7)]
    conversations = [c.occurred_at for c in contacts if c.channel == VOICE and c.outcome == CONNECTED]
    return History(
        attempts_today=sum(1 for c in today if c.channel == channel and c.outcome in ATTEMPTED),
        connected_calls_today=sum(1 for c in today if c.channel == VOICE and c.outcome == CONNECTED),
        calls_last_7_days=sum(1 for c in week if c.channel == VOICE and c.outcome in ATTEMPTED),
        last_conversation_at=max(conversations, default=None),
    )


def agent_contact(channel: str, occurred_at: datetime, connected: bool) -> list[PastContact]:
    """An agent's call as the history of a voice reminder would show it: an attempt, and an answer when the
    borrower was reached (a conversation)."""
    method = AGENT_CHANNELS.get(channel, channel)
    return [PastContact(method, occurred_at, SENT)] + ([PastContact(method, occurred_at, CONNECTED)] if connected else [])
