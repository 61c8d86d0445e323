"""The one settings class of the dunning scheduler; every field can be set with a SCHEDULER_ variable."""

from datetime import time
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
    # Loops per replica, each with its own connection. One loop's batch is one statement, run by one
    # PostgreSQL backend on one core: a backlog fires about a third faster with two (docs/profiling/scheduler.md).
    timer_workers: int = 2

    # Agent work, checked when an agent claims a task. CN defaults, the numbers notification's guard
    # enforces for automated reminders (its domain/rules.py, issue 5): no contact 22:00-08:00 borrower
    # local time, at most 3 connected voice calls per borrower per day and at most 6 attempts per contact
    # method per day, in line with the National Internet Finance Association of China's self-regulation
    # on overdue-debt collection. Calls also keep inside the policy's contact window.
    agent_call_start: time = time(8, 0)
    agent_call_end: time = time(22, 0)
    agent_call_attempts_per_day: int = 6
    agent_connected_calls_per_day: int = 3
    # Field visits in working daytime only: a collector at the door in the evening is the harassment the
    # same rules forbid. Also kept inside the policy's contact window.
    field_visit_start: time = time(9, 0)
    field_visit_end: time = time(18, 0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
