"""The one settings class of the dunning scheduler; every field can be set with a SCHEDULER_ variable."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from dunning_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore")

    http_port: int = 8002
    source: str = "urn:dunning:dunning-scheduler"

    # Used until a LoanBooked tells where and in which language the borrower lives.
    default_locale: str = "zh-CN"
    default_timezone: str = "Asia/Shanghai"
    default_region: str = "CN"

    # Timers are claimed and fired in set-based batches; an idle loop looks again after the poll interval.
    timer_batch_size: int = 1000
    timer_poll_seconds: float = 0.25
    timer_workers: int = 1


@lru_cache
def get_settings() -> Settings:
    return Settings()
