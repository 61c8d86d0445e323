"""Topic names of CONTRACT §2. The Kafka key of every message is the loan id."""


class Topics:
    REPAYMENT_EVENTS = "lending.repayment-events.v1"
    LOAN_OVERDUE = "dunning.loan-overdue.v1"
    REMINDER_REQUESTED = "dunning.reminder-requested.v1"
    REMINDER_SENT = "dunning.reminder-sent.v1"
    CASE_ESCALATED = "dunning.case-escalated.v1"
    LEGAL_CASE = "dunning.legal-case.v1"
    CASE_EVENTS = "dunning.case-events.v1"  # an extension of CONTRACT §2: promises, holds, plans, agent contacts

    ALL = (REPAYMENT_EVENTS, LOAN_OVERDUE, REMINDER_REQUESTED, REMINDER_SENT, CASE_ESCALATED, LEGAL_CASE, CASE_EVENTS)


TOPIC_OF_TYPE = {
    "LoanBooked": Topics.REPAYMENT_EVENTS,
    "RepaymentReceived": Topics.REPAYMENT_EVENTS,
    "RepaymentFailed": Topics.REPAYMENT_EVENTS,
    "LoanClosed": Topics.REPAYMENT_EVENTS,
    "LoanOverdue": Topics.LOAN_OVERDUE,
    "OverdueCleared": Topics.LOAN_OVERDUE,
    "ReminderRequested": Topics.REMINDER_REQUESTED,
    "ReminderSent": Topics.REMINDER_SENT,
    "CaseEscalated": Topics.CASE_ESCALATED,
    "LegalCaseOpened": Topics.LEGAL_CASE,
    "LegalCaseUpdated": Topics.LEGAL_CASE,
    **{name: Topics.CASE_EVENTS for name in ("PromiseMade", "PromiseKept", "PromiseBroken", "HoldPlaced", "HoldReleased", "PlanAgreed", "PlanCompleted", "PlanBroken", "ContactAttempted")},
}


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
