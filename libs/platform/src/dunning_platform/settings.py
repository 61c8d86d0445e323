"""The settings every service shares; each service subclasses it once with its own env prefix."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # The service's own role; no default, so a missing secret fails at start-up, not later.
    database_url: SecretStr
    tokens_file: Path
    pii_key: SecretStr | None = None

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Apache Kafka: on. The embedded broker cannot initialise an idempotent producer.
    kafka_idempotence: bool = False
    kafka_partitions: int = 4
    kafka_replication_factor: int = 1
    kafka_batch_size: int = 500
    # The longest a consumer's fetch waits at the broker when it has nothing new. Apache Kafka answers
    # as soon as a record arrives, whatever this is; the embedded broker answers only as its wait runs
    # out, in steps of about half the wait: 500 ms (the client default) cost each hop 120 ms at the median.
    kafka_fetch_max_wait_ms: int = Field(default=200, gt=0)
    kafka_max_retries: int = 3
    kafka_retry_backoff_ms: int = 200
    # A broker that lost its data (the embedded one keeps nothing across a restart) is refilled from the
    # outbox: rows created within the window are published again, and consumers read from the start.
    broker_recovery: bool = True
    broker_check_seconds: float = 1.0
    # The outbox must keep published rows at least this long for a refill to be complete.
    broker_recovery_window_hours: float = 7 * 24
    # Time for every consumer to notice the loss before the refill starts, so none reads it from a stale offset.
    broker_recovery_grace_seconds: float = 3.0
    # How often every replica refreshes its gauges: outbox backlog and age, DLQ sizes, consumer lag.
    metrics_interval_seconds: float = Field(default=5.0, gt=0)

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_request_bytes: int = 4 * 1024 * 1024
    # Per token; a lender's batch endpoint carries up to thousands of events per request.
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    log_level: str = "INFO"
    # Spans are exported over OTLP/HTTP when set (or when OTEL_EXPORTER_OTLP_ENDPOINT is); off otherwise.
    otlp_endpoint: str | None = None
    source: str = "urn:dunning"
