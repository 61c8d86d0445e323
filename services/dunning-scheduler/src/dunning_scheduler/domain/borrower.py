"""Where and in which language a borrower is reached, as far as the scheduler needs to know."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class BorrowerContext:
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    region: str = "CN"
    # False until a LoanBooked told where the borrower lives (its overdue notice may come first: another
    # topic). Days are then counted on the home market's calendar, but no contact window is planned on a
    # clock that may not be the borrower's: notification, which knows the borrower's zone, guards the hours.
    known: bool = True


# Until a LoanBooked says otherwise: the platform's home market.
DEFAULT_CONTEXT = BorrowerContext(known=False)


def known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
