"""What the bus must hear after a loan's figures change: the domain's own small events."""

from dataclasses import dataclass
from decimal import Decimal

from dunning_ingestion.domain.figures import Figures


@dataclass(frozen=True)
class BecameOverdue:
    figures: Figures


@dataclass(frozen=True)
class OverdueWasCleared:
    reason: str  # paid, closed, restructured


Notice = BecameOverdue | OverdueWasCleared


def notice_for(reported_overdue: Decimal, figures: Figures, *, restructured: bool = False) -> Notice | None:
    """`reported_overdue` is the overdue amount the bus last heard (zero when it heard none or a clearance).

    LoanOverdue goes out when a loan becomes overdue and whenever its overdue amount changes;
    OverdueCleared when that amount reaches zero, when the loan closes, or when a new schedule makes it current."""
    if figures.status == "closed":
        return OverdueWasCleared("closed") if reported_overdue > 0 else None
    if figures.overdue_amount > 0:
        return BecameOverdue(figures) if figures.overdue_amount != reported_overdue else None
    if reported_overdue > 0:
        return OverdueWasCleared("restructured" if restructured else "paid")
    return None


def reported_after(notice: Notice | None, reported_overdue: Decimal) -> Decimal:
    """The overdue amount the bus knows once `notice` is published."""
    if isinstance(notice, BecameOverdue):
        return notice.figures.overdue_amount
    if isinstance(notice, OverdueWasCleared):
        return Decimal("0")
    return reported_overdue
