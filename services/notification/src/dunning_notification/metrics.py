"""The notification service's own Prometheus metrics."""

from prometheus_client import Counter, Histogram

REMINDER_OUTCOMES = Counter("notification_reminders_total", "Reminder outcomes", ["channel", "status"])
SUPPRESSIONS = Counter("notification_suppressions_total", "Contacts stopped by the compliance guard", ["rule"])
PROVIDER_LATENCY = Histogram("notification_provider_seconds", "Provider call latency", ["channel", "outcome"])
PROVIDER_UNANSWERED = Counter(
    "notification_provider_unanswered_total", "Pinned reminders ended failed: their provider never answered", ["channel"]
)
