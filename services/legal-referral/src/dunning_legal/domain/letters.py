"""The demand letter sent with a referral, in the borrower's language: zh-CN, or English otherwise."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

LOCALES = ("zh-CN", "en")


@dataclass(frozen=True)
class DemandFacts:
    legal_case_id: str
    loan_id: str
    lender: str
    borrower_id: str
    borrower_name: str | None
    currency: str
    overdue_amount: Decimal
    penalty_accrued: Decimal
    outstanding_balance: Decimal
    days_past_due: int
    overdue_since: date | None
    partner_name: str
    issued_on: date
    pay_by: date
    file_digest: str


@dataclass(frozen=True)
class Letter:
    locale: str
    title: str
    salutation: str
    paragraphs: tuple[str, ...]
    signature: tuple[str, ...]


def letter_locale(locale: str | None) -> str:
    """Any Chinese locale gets the Simplified Chinese letter; every other one the English letter."""
    return "zh-CN" if (locale or "").lower().startswith("zh") else "en"


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def demand_letter(facts: DemandFacts, locale: str | None) -> Letter:
    return _zh_cn(facts) if letter_locale(locale) == "zh-CN" else _en(facts)


def _zh_cn(f: DemandFacts) -> Letter:
    since = f"自 {f.overdue_since.isoformat()} 起" if f.overdue_since else ""
    return Letter(
        locale="zh-CN",
        title="律师催告函",
        salutation=f"尊敬的{f.borrower_name or '借款人'}（借款人编号 {f.borrower_id}）：",
        paragraphs=(
            f"受 {f.lender} 委托，{f.partner_name} 就贵方借款（借款编号 {f.loan_id}）的逾期事宜致函如下。",
            f"该笔借款{since}已逾期 {f.days_past_due} 天。截至 {f.issued_on.isoformat()}，逾期应还金额为 "
            f"{money(f.overdue_amount, f.currency)}，罚息 {money(f.penalty_accrued, f.currency)}，"
            f"剩余未还本金及利息合计 {money(f.outstanding_balance, f.currency)}。",
            f"请于 {f.pay_by.isoformat()} 前清偿上述逾期款项，或与我方联系协商还款安排。"
            "逾期未履行的，我方将依法向有管辖权的人民法院提起诉讼，由此产生的诉讼费用等可能由贵方承担。",
            "如您已还清上述款项，请忽略本函。",
            f"案件编号 {f.legal_case_id}；证据材料摘要值（SHA-256）{f.file_digest}。",
        ),
        signature=(f.partner_name, f"{f.issued_on.isoformat()}"),
    )


def _en(f: DemandFacts) -> Letter:
    since = f" since {f.overdue_since.isoformat()}" if f.overdue_since else ""
    return Letter(
        locale="en",
        title="Letter of Demand",
        salutation=f"Dear {f.borrower_name or 'Borrower'} (borrower {f.borrower_id}),",
        paragraphs=(
            f"We write on behalf of {f.lender} about your loan {f.loan_id}, which has been referred to "
            f"{f.partner_name}.",
            f"The loan has been overdue{since} for {f.days_past_due} days. As of {f.issued_on.isoformat()}, "
            f"the overdue amount is {money(f.overdue_amount, f.currency)}, with penalties of "
            f"{money(f.penalty_accrued, f.currency)}; the outstanding balance is "
            f"{money(f.outstanding_balance, f.currency)}.",
            f"Please pay the overdue amount by {f.pay_by.isoformat()}, or contact us to agree a repayment plan. "
            "If you do not, we may start court proceedings without further notice, and you may be ordered to "
            "pay their costs.",
            "If you have already paid, please disregard this letter.",
            f"Case reference {f.legal_case_id}; evidence file digest (SHA-256) {f.file_digest}.",
        ),
        signature=(f.partner_name, f"{f.issued_on.isoformat()}"),
    )
