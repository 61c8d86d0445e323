"""A borrower's recent contacts, reduced to what the guard asks: today's attempts on a channel, today's
connected calls, calls in the last 7 days, the last conversation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_notification.domain.guard import History, day_bounds

# Attempts that reached a provider count against the caps; a refusal by the guard does not.
ATTEMPTED = frozenset({"sent", "failed"})
# A delivery receipt for a call means it was answered: a connected call, a conversation.
CONNECTED = "delivered"
VOICE = "voice"
LOOKBACK = timedelta(days=8)


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
