"""A run of events is split into waves that never hold two events of one loan, each loan's in order."""

from dunning_scheduler.handlers import waves


def loan(item: str) -> str:
    return item.split(":")[0]


def test_distinct_loans_make_one_wave_in_their_order():
    assert waves(["a:1", "b:1", "c:1"], loan) == [["a:1", "b:1", "c:1"]]


def test_a_loan_seen_twice_goes_to_the_next_wave_after_its_first_event():
    assert waves(["a:1", "b:1", "a:2", "c:1", "a:3", "b:2"], loan) == [
        ["a:1", "b:1", "c:1"],
        ["a:2", "b:2"],
        ["a:3"],
    ]


def test_no_events_make_no_waves():
    assert waves([], loan) == []
