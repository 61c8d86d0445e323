"""Ingestion's settings: environment variables with the INGESTION_ prefix."""

from decimal import Decimal
from functools import lru_cache

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from dunning_ingestion.domain.terms import DEFAULT_WATERFALL
from dunning_platform.settings import ServiceSettings


class LenderSettings(BaseModel):
    """One lending platform's own ledger settings; what it leaves out comes from the service's."""

    default_penalty_rate_daily: Decimal | None = Field(default=None, ge=0)
    penalty_cap_annual: Decimal | None = Field(default=None, ge=0)
    default_grace_days: int | None = Field(default=None, ge=0, le=365)
    waterfall: tuple[str, ...] | None = None
    # When set, this lender's requests must carry X-Dunning-Signature (HMAC-SHA256 of "<t>.<body>"; README).
    # Excluded from model_dump, which builds the lender's ledger policy from the other fields.
    webhook_secret: SecretStr | None = Field(default=None, exclude=True)

    @field_validator("waterfall")
    @classmethod
    def _a_permutation_of_the_parts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and sorted(value) != sorted(DEFAULT_WATERFALL):
            raise ValueError(f"must order exactly {sorted(DEFAULT_WATERFALL)}")
        return value


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    http_port: int = 8001
    source: str = "urn:dunning:ingestion"
    # A consumer batch is applied set-based in a fixed number of statements: bigger batches, fewer trips.
    kafka_batch_size: int = 2000
    # Processes consuming the inbound topic (four partitions), this one included: applying events is
    # CPU-bound, one process uses one core. Each runs `kafka_consumers` members of the consumer group.
    consumer_processes: int = Field(default=2, ge=1, le=8)
    kafka_consumers: int = Field(default=1, ge=1, le=16)

    # Charged when a LoanBooked names no penalty_rate_daily: 0.05% a day, the common contract rate.
    default_penalty_rate_daily: Decimal = Field(default=Decimal("0.0005"), ge=0)
    # The annual ceiling on contract interest and penalty together (the penalty gets what the contract's
    # interest leaves; README, "Cap"): 24%, the rate above which Chinese courts refuse licensed
    # lenders' combined charges (Ninth Civil and Commercial Trial Minutes, 2019, art. 51). Private lending
    # is capped lower, at four times the one-year LPR (SPC Provisions on Private Lending, 2020 revision,
    # art. 25): set 0.124 (LPR 3.1%) for such lenders.
    penalty_cap_annual: Decimal = Field(default=Decimal("0.24"), ge=0)
    default_grace_days: int = Field(default=0, ge=0, le=365)
    # Per lender, as JSON: INGESTION_LENDERS='{"acme": {"penalty_cap_annual": "0.124",
    # "waterfall": ["interest", "principal", "penalty"]}}'
    lenders: dict[str, LenderSettings] = Field(default_factory=dict)
    # How far a signature's timestamp may be from now: a captured request cannot be replayed later.
    webhook_signature_tolerance_seconds: int = Field(default=300, ge=1)

    # The daily aging sweep runs once a day, after this hour in this zone.
    aging_sweep_hour: int = Field(default=1, ge=0, le=23)
    aging_sweep_timezone: str = "Asia/Shanghai"
    aging_sweep_poll_seconds: float = Field(default=60.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
