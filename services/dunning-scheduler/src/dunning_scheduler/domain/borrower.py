"""Where and in which language a borrower is reached, as far as the scheduler needs to know."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class BorrowerContext:
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    region: str = "CN"


# Until a LoanBooked says otherwise: the platform's home market.
DEFAULT_CONTEXT = BorrowerContext()


def known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
