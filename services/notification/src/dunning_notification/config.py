"""The notification service's settings (environment prefix NOTIFICATION_)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from dunning_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    # Borrower contact data is encrypted at rest with a key derived from this Fernet key (adapters/vault.py):
    # without it the service must not start.
    pii_key: SecretStr
    # How new contact data is sealed: "fernet" while replicas of a release that opens only Fernet tokens
    # still run (a rolling upgrade), then "aes-gcm". Both are always opened.
    pii_sealing: Literal["aes-gcm", "fernet"] = "aes-gcm"

    http_port: int = 8003
    source: str = "urn:dunning:notification"

    provider_url: str = "http://127.0.0.1:8009"
    provider_name: str = "devprovider"
    provider_timeout_s: float = 5.0
    # A second provider for SMS, push, voice and letters: used when the first cannot take a message.
    fallback_provider_url: str | None = None
    fallback_provider_name: str = "fallback"
    # Messages per request to a provider's batch API (SMS and push); 1 sends each message in its own call,
    # for a provider without one.
    provider_batch_max: int = Field(default=100, ge=1, le=100)
    fallback_provider_batch_max: int = Field(default=1, ge=1, le=100)
    # Consecutive failures that open a provider's circuit, and how long it then stays open.
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_timeout_s: float = 10.0
    mail_from: str = "reminders@dunning.invalid"
    smtp_provider_name: str = "smtp"

    # New reminders wake the dispatcher at once (LISTEN/NOTIFY); this interval finds deferred ones due.
    # Delivery receipts: providers sign them with this secret and post them to public_url/webhooks/receipts/.
    # Without a secret no receipt is asked for and none is accepted.
    receipt_secret: SecretStr | None = None
    public_url: str | None = None

    # New reminders wake the dispatcher at once (LISTEN/NOTIFY); this interval finds deferred ones due.
    dispatch_interval_s: float = 1.0
    dispatch_batch_size: int = 500
    # Rounds in flight at once: the next batch is claimed and decided while the last is at the provider.
    dispatch_pipeline_depth: int = Field(default=2, ge=1, le=8)
    # Provider calls in flight at once per dispatcher.
    dispatch_concurrency: int = 64
    # A claimed reminder is another dispatcher's to retry once its lease ends (a crash mid-send).
    dispatch_lease_s: float = 120.0
    send_max_attempts: int = 5
    send_retry_base_s: float = 2.0
    # A reminder pinned to a provider that may hold it is asked again (with backoff) until the provider
    # answers; this long past its `expires_at` with no answer it ends `failed`, reason `provider_unanswered`.
    pinned_answer_grace_s: float = Field(default=86400.0, ge=0)
    # A reminder for a borrower whose LoanBooked has not arrived yet (another topic, no order between
    # them) looks again this soon; until it expires.
    unknown_contact_retry_s: float = 5.0
    # The number a voicemail asks the borrower to call back: the only detail, beside the lender, it gives.
    voice_callback_number: str | None = None


    def receipt_url(self, provider: str) -> str | None:
        if self.receipt_secret is None:
            return None
        base = self.public_url or f"http://{self.http_host}:{self.http_port}"
        return f"{base.rstrip('/')}/webhooks/receipts/{provider}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
