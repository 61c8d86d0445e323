"""What a booking falls back on when its contract leaves it out, per lender: several lending platforms
share one deployment, each with its own penalty ceiling, defaults and allocation order."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dunning_ingestion.domain.terms import DEFAULT_WATERFALL, capped_daily_rate


@dataclass(frozen=True)
class LedgerPolicy:
    default_penalty_rate_daily: Decimal = Decimal("0.0005")
    penalty_cap_annual: Decimal = Decimal("0.24")
    default_grace_days: int = 0
    waterfall: tuple[str, ...] = DEFAULT_WATERFALL

    def penalty_rate(self, contract_rate: Decimal | None, interest_rate_annual: Decimal = Decimal(0)) -> Decimal:
        """The daily penalty rate charged: with the contract's interest, within the annual cap."""
        rate = self.default_penalty_rate_daily if contract_rate is None else contract_rate
        return capped_daily_rate(rate, self.penalty_cap_annual, interest_rate_annual)

    def grace_days(self, contract_grace: int | None) -> int:
        return self.default_grace_days if contract_grace is None else contract_grace


@dataclass(frozen=True)
class Policies:
    default: LedgerPolicy = LedgerPolicy()
    by_lender: Mapping[str, LedgerPolicy] = field(default_factory=dict)

    def for_lender(self, lender: str) -> LedgerPolicy:
        return self.by_lender.get(lender, self.default)
