from datetime import UTC, datetime
from itertools import pairwise

import pytest

from dunning_legal.domain.lifecycle import COURT_PATH, IllegalMove, allowed_next, check_move, is_open, move

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("current, target", list(pairwise(COURT_PATH)))
def test_a_referral_walks_the_court_path_one_step_at_a_time(current, target):
    check_move(current, target)


@pytest.mark.parametrize("current", ["referred", "accepted", "filed", "judgment", "enforcement"])
@pytest.mark.parametrize("exit_", ["withdrawn", "settled"])
def test_any_open_referral_can_be_withdrawn_or_settled(current, exit_):
    check_move(current, exit_)


def test_a_step_cannot_be_skipped_and_the_reason_names_the_allowed_moves():
    with pytest.raises(IllegalMove) as refused:
        check_move("referred", "judgment")
    assert (
        refused.value.reason
        == "a referral that is referred can move only to accepted, withdrawn, settled, not to judgment"
    )


def test_the_court_path_does_not_go_backwards():
    with pytest.raises(IllegalMove, match="can move only to judgment"):
        check_move("filed", "accepted")


@pytest.mark.parametrize("final", ["closed", "withdrawn", "settled"])
def test_a_final_status_allows_no_move(final):
    with pytest.raises(IllegalMove, match=f"the referral is {final}, a final status"):
        check_move(final, "accepted")
    assert allowed_next(final) == ()
    assert not is_open(final)


def test_moving_to_the_current_status_is_refused():
    with pytest.raises(IllegalMove, match="already accepted"):
        check_move("accepted", "accepted")


def test_an_unknown_status_is_refused():
    with pytest.raises(IllegalMove, match="'lost' is not a status"):
        check_move("referred", "lost")


def test_a_move_records_who_when_from_and_to():
    recorded = move("accepted", "filed", actor="token:abc", at=AT, note="filed at Pudong court")
    assert (recorded.from_status, recorded.to_status, recorded.actor, recorded.at) == (
        "accepted",
        "filed",
        "token:abc",
        AT,
    )
