"""The one settings class of legal-referral; every field can be set with a LEGAL_ environment variable."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from dunning_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEGAL_", extra="ignore")

    http_port: int = 8004
    source: str = "urn:dunning:legal-referral"
    # Used when no LoanBooked has told us where the borrower lives.
    default_region: str = "CN"
    # A partner that has not accepted a referral within this time loses it to another partner.
    acceptance_deadline_hours: float = 72.0
    reassign_interval_seconds: float = 30.0
    # The demand letter gives the borrower this many days to pay before proceedings start.
    demand_pay_within_days: int = 14
    # The letter's language when no LoanBooked told the borrower's locale (the contract's default).
    default_letter_locale: str = "zh-CN"


@lru_cache
def get_settings() -> Settings:
    return Settings()
