"""Which partner gets a referral: one serving the borrower's region first (a firm of the province before
one covering the whole country), then the least loaded, and among equals the one whose last assignment
is oldest, so equals take turns (round robin). A full partner is chosen only when all are full."""

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
        """0: names the region itself; 1: covers its whole country; 2: serves elsewhere."""
        if region in self.regions:
            return 0
        return 1 if _country(region) in self.regions else 2


class NoPartnerAvailable(Exception):
    pass


def choose_partner(candidates: list[Candidate], region: str, *, exclude: frozenset[str] = frozenset()) -> Candidate:
    """The partner a new referral for `region` goes to; partners in `exclude` are never chosen."""
    eligible = [c for c in candidates if c.partner_id not in exclude]
    if not eligible:
        raise NoPartnerAvailable(f"no partner is available for region {region}")
    return min(eligible, key=lambda c: _rank(c, region))


def _rank(candidate: Candidate, region: str) -> tuple:
    # A full partner is a last resort even in the right region: the referral must still go somewhere.
    return (
        candidate.full,
        candidate.closeness(region),
        candidate.load,
        candidate.last_assigned_seq,
        candidate.partner_id,
    )


def _country(region: str) -> str:
    """'CN-SH' belongs to 'CN': a partner serving the whole country serves its provinces too."""
    return region.split("-", 1)[0]
