"""The settings every service shares; each service subclasses it once with its own env prefix."""

from pathlib import Path

from pydantic import SecretStr
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
    kafka_max_retries: int = 3
    kafka_retry_backoff_ms: int = 200

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_request_bytes: int = 4 * 1024 * 1024
    # Per token; a lender's batch endpoint carries up to thousands of events per request.
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    log_level: str = "INFO"
    source: str = "urn:dunning"
