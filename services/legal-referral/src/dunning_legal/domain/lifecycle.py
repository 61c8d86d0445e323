"""The lifecycle of a legal referral: which status may follow which, and why a move is refused."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Status = Literal["referred", "accepted", "filed", "judgment", "enforcement", "closed", "withdrawn", "settled"]

# The court path, in order; each step may only go to the next one.
COURT_PATH: tuple[Status, ...] = ("referred", "accepted", "filed", "judgment", "enforcement", "closed")
OPEN: frozenset[Status] = frozenset(COURT_PATH[:-1])
# A borrower may pay, or the lender may call the case back, at any point before it ends.
EXITS: tuple[Status, ...] = ("withdrawn", "settled")
FINAL: frozenset[Status] = frozenset(("closed", *EXITS))
STATUSES: tuple[Status, ...] = (*COURT_PATH, *EXITS)


class IllegalMove(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Move:
    """One audited status change."""

    from_status: Status
    to_status: Status
    actor: str
    at: datetime
    note: str | None = None


def allowed_next(current: Status) -> tuple[Status, ...]:
    if current not in OPEN:
        return ()
    return (COURT_PATH[COURT_PATH.index(current) + 1], *EXITS)


def check_move(current: Status, target: Status) -> None:
    """Raise IllegalMove, with the reason, unless the lifecycle allows current -> target."""
    if target not in STATUSES:
        raise IllegalMove(f"{target!r} is not a status; known: {', '.join(STATUSES)}")
    if current in FINAL:
        raise IllegalMove(f"the referral is {current}, a final status; it cannot move to {target}")
    if target == current:
        raise IllegalMove(f"the referral is already {current}")
    allowed = allowed_next(current)
    if target not in allowed:
        raise IllegalMove(f"a referral that is {current} can move only to {', '.join(allowed)}, not to {target}")


def move(current: Status, target: Status, *, actor: str, at: datetime, note: str | None = None) -> Move:
    check_move(current, target)
    return Move(current, target, actor, at, note)


def is_open(status: str) -> bool:
    return status in OPEN
