"""Which partner gets a referral: region first, then the least loaded, and among equals the one whose last
assignment is oldest, so equals take turns (round robin).

Region first means: a firm of the province, then one covering the whole country, then one of another
province of that country, and only then one abroad. A firm abroad cannot take the borrower to the
borrower's courts, so a partner of the borrower's country is chosen even when it is full; capacity orders
partners only within the same closeness (a full one after one with room)."""

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Candidate:
    partner_id: str
    regions: frozenset[str]
    capacity: int
    open_referrals: int
    # Position of the partner's latest assignment in the global order; 0 when it never had one.
    last_assigned_seq: int = 0

    @property
    def full(self) -> bool:
        return self.open_referrals >= self.capacity

    @property
    def load(self) -> Fraction:
        # Relative load, so a firm that can take 100 cases is not treated like one that can take 10.
        return Fraction(self.open_referrals, max(self.capacity, 1))

    def closeness(self, region: str) -> int:
        """0: names the region itself; 1: covers its whole country; 2: serves elsewhere in that country;
        3: serves only other countries."""
        if region in self.regions:
            return 0
        if _country(region) in self.regions:
            return 1
        return 2 if _country(region) in {_country(served) for served in self.regions} else 3


class NoPartnerAvailable(Exception):
    pass


def choose_partner(candidates: list[Candidate], region: str, *, exclude: frozenset[str] = frozenset()) -> Candidate:
    """The partner a new referral for `region` goes to; partners in `exclude` are never chosen."""
    eligible = [c for c in candidates if c.partner_id not in exclude]
    if not eligible:
        raise NoPartnerAvailable(f"no partner is available for region {region}")
    return min(eligible, key=lambda c: _rank(c, region))


def _rank(candidate: Candidate, region: str) -> tuple:
    # Full comes after closeness: an overloaded firm at home still beats a free one abroad, and a full
    # firm is still chosen when nobody else is near, because the referral must go somewhere.
    return (
        candidate.closeness(region),
        candidate.full,
        candidate.load,
        candidate.last_assigned_seq,
        candidate.partner_id,
    )


def _country(region: str) -> str:
    """'CN-SH' belongs to 'CN': a partner serving the whole country serves its provinces too."""
    return region.split("-", 1)[0]
