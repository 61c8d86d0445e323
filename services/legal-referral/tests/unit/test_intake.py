from datetime import UTC, datetime, timedelta

from dunning_legal.domain.intake import Escalation, LoanState, reason_not_to_refer

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FRESH = LoanState(already_referred_case=False, open_referral_of_loan=False, cleared_at=None)


def escalation(to_stage="legal"):
    return Escalation("C-1", to_stage, AT)


def test_an_escalation_to_legal_of_an_overdue_loan_is_referred():
    assert reason_not_to_refer(escalation(), FRESH) is None


def test_an_escalation_to_an_earlier_stage_is_not():
    assert reason_not_to_refer(escalation("field_visit"), FRESH) == "escalated to field_visit, not to legal"


def test_a_case_already_referred_is_not_referred_again():
    state = LoanState(already_referred_case=True, open_referral_of_loan=True, cleared_at=None)
    assert reason_not_to_refer(escalation(), state) == "case C-1 is already referred"


def test_a_loan_cured_after_the_escalation_is_not_referred():
    state = LoanState(already_referred_case=False, open_referral_of_loan=False, cleared_at=AT + timedelta(minutes=5))
    assert reason_not_to_refer(escalation(), state) == "the loan was cured after the escalation"


def test_a_loan_cured_before_the_escalation_is_referred():
    state = LoanState(already_referred_case=False, open_referral_of_loan=False, cleared_at=AT - timedelta(days=3))
    assert reason_not_to_refer(escalation(), state) is None


def test_a_second_case_of_a_loan_with_an_open_referral_is_not_referred():
    state = LoanState(already_referred_case=False, open_referral_of_loan=True, cleared_at=None)
    assert reason_not_to_refer(escalation(), state) == "the loan already has an open referral"
