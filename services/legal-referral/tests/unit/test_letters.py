from dataclasses import replace
from decimal import Decimal

from dunning_legal.domain.letters import demand_letter, letter_locale, money


def test_money_is_shown_with_two_decimals_and_grouped_thousands():
    assert money(Decimal("12000"), "CNY") == "CNY 12,000.00"
    assert money(Decimal("3150.405"), "CNY") == "CNY 3,150.40"


def test_any_chinese_locale_gets_the_simplified_chinese_letter_and_others_the_english_one():
    assert [letter_locale(x) for x in ("zh-CN", "zh", "zh-TW", "en", "en-GB", "fr", None)] == [
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "en",
        "en",
        "en",
        "en",
    ]


def test_the_chinese_letter_states_the_debt_the_deadline_and_the_file_digest(facts):
    letter = demand_letter(facts, "zh-CN")
    text = "\n".join(letter.paragraphs)
    assert letter.title == "律师催告函"
    assert letter.salutation.startswith("尊敬的张伟")
    assert "已逾期 92 天" in text and "CNY 3,150.40" in text and "2026-12-11 前" in text
    assert facts.file_digest in text


def test_the_english_letter_states_the_same_facts(facts):
    letter = demand_letter(facts, "en")
    text = "\n".join(letter.paragraphs)
    assert letter.title == "Letter of Demand"
    assert "overdue since 2026-08-27 for 92 days" in text
    assert "by 2026-12-11" in text and "CNY 12,000.00" in text


def test_a_borrower_whose_name_we_do_not_hold_is_addressed_by_id(facts):
    letter = demand_letter(replace(facts, borrower_name=None), "en")
    assert letter.salutation == "Dear Borrower (borrower B-1),"
