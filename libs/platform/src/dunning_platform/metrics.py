"""Prometheus metrics shared by every service; each service adds its own beside these."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"])
EVENTS_CONSUMED = Counter("events_consumed_total", "Events consumed", ["topic", "type", "outcome"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered_total", "Events sent to a DLQ", ["topic", "reason"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Outbox rows published", ["topic"])
# multiprocess_mode only counts in prometheus_client's multiprocess mode (ingestion's consumer processes):
# processes reading the same table agree, so the largest live value; a partition's lag from whoever set it last.
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox rows not yet published", multiprocess_mode="livemax")
OUTBOX_OLDEST_AGE = Gauge("outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", multiprocess_mode="livemax")
CONSUMER_LAG = Gauge(
    "consumer_lag", "Records behind the end of the partition", ["group", "topic", "partition"], multiprocess_mode="livemostrecent"
)
# Every replica reports the same count (read from the broker): aggregate with max, not sum.
DLQ_MESSAGES = Gauge("dlq_messages", "Records on a dead-letter topic this service writes to", ["topic"], multiprocess_mode="livemax")
