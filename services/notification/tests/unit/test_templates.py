"""Templates: both languages on every channel, the sandbox, and the wording lint."""

from decimal import Decimal

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from dunning_notification.adapters.template_files import load_catalogue
from dunning_notification.domain.reminders import LoanFigures, message_context, voicemail_context
from dunning_notification.domain.templates import TemplateCatalogue, TemplateKey, TemplateRefused, sms_segments

FIGURES = LoanFigures(lender="Acme Credit", currency="CNY", overdue_amount=Decimal("1234.5"), days_past_due=12)
CHANNELS = ("sms", "email", "push", "voice", "letter")


@pytest.fixture(scope="module")
def catalogue() -> TemplateCatalogue:
    return load_catalogue()


def render(catalogue, channel: str, locale: str, figures: LoanFigures = FIGURES, template: str = "overdue_reminder"):
    key = catalogue.resolve(channel, template, locale, "reminder")
    if channel == "voice":
        return catalogue.render(key, voicemail_context(figures, key.locale, "400-800-1234"))
    return catalogue.render(key, message_context("张三", "loan-000123", figures, key.locale, "reminder"))


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_renders_in_chinese_and_in_english(catalogue, channel):
    chinese, english = render(catalogue, channel, "zh-CN"), render(catalogue, channel, "en")
    assert chinese.body and english.body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.body)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.body.replace("张三", ""))


def test_a_chinese_sms_quotes_the_overdue_figures_and_offers_help(catalogue):
    text = render(catalogue, "sms", "zh-CN").body
    assert "1,234.50元" in text and "逾期12天" in text and "尾号0123" in text
    assert "商量还款安排" in text and "退订" in text


def test_an_english_email_has_a_subject_and_the_figures(catalogue):
    mail = render(catalogue, "email", "en")
    assert mail.subject == "Payment reminder from Acme Credit (loan ending 0123)"
    assert "12 days past due" in mail.body and "CNY 1,234.50" in mail.body


def test_a_reminder_without_figures_still_reads_well(catalogue):
    text = render(catalogue, "sms", "zh-CN", figures=LoanFigures()).body
    assert "已到还款期" in text and "None" not in text


def test_a_voicemail_carries_no_debt_details(catalogue):
    # Anyone may hear a voicemail: it names neither the amount, nor the loan, nor the borrower.
    for locale in ("zh-CN", "en"):
        text = render(catalogue, "voice", locale).body
        assert "1,234.50" not in text and "0123" not in text and "张三" not in text


def test_an_unknown_template_falls_back_to_the_stage_wording_and_a_regional_locale_to_its_language(catalogue):
    assert catalogue.resolve("sms", "no_such_template", "zh-TW", "phone") == TemplateKey("sms", "overdue_notice", "zh-CN")
    assert catalogue.resolve("sms", "pre_due_reminder", "en-GB").name == "pre_due_reminder"


def test_a_template_threatening_arrest_is_refused_with_its_line_named():
    source = "尊敬的{{ name }}：\n请尽快还款，否则将通知公安机关逮捕。"
    with pytest.raises(TemplateRefused, match=r"sms/bad.zh-CN: line 2: threat of arrest"):
        TemplateCatalogue({TemplateKey("sms", "bad", "zh-CN"): source})


@pytest.mark.parametrize(
    "line",
    ["We will tell your employer about this debt.", "您已被列入黑名单", "我们将联系您的家人和同事", "This is the police."],
)
def test_disclosure_blacklists_and_impersonation_are_refused(line):
    with pytest.raises(TemplateRefused):
        TemplateCatalogue({TemplateKey("sms", "bad", "en"): "Hello {{ name }}\n" + line})


def test_the_sandbox_refuses_to_reach_into_python():
    catalogue = TemplateCatalogue({TemplateKey("sms", "evil", "en"): "{{ name.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(SecurityError):
        catalogue.render(TemplateKey("sms", "evil", "en"), {"name": "x"})


def test_a_misspelt_variable_fails_instead_of_sending_a_blank():
    catalogue = TemplateCatalogue({TemplateKey("sms", "typo", "en"): "Hello {{ nmae }}"})
    with pytest.raises(UndefinedError):
        catalogue.render(TemplateKey("sms", "typo", "en"), {"name": "x"})


def test_sms_segments_count_chinese_by_70_and_latin_by_160():
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 161) == 2
    assert sms_segments("中" * 70) == 1 and sms_segments("中" * 71) == 2 and sms_segments("中" * 135) == 3


@pytest.mark.parametrize("template", ["plan_installment_due", "auto_debit_failed"])
def test_a_plan_installment_and_a_bounced_auto_debit_have_their_own_sms_quoting_the_loan(catalogue, template):
    assert {catalogue.resolve("sms", template, locale).name for locale in ("zh-CN", "en")} == {template}
    chinese = render(catalogue, "sms", "zh-CN", template=template).body
    english = render(catalogue, "sms", "en", template=template).body
    assert "尾号0123" in chinese and "1,234.50元" in chinese and "退订" in chinese
    assert "ending 0123" in english and "CNY 1,234.50" in english and "STOP" in english


@pytest.mark.parametrize("template", ["plan_installment_due", "auto_debit_failed"])
def test_a_plan_installment_or_bounced_debit_without_figures_still_reads_well(catalogue, template):
    for locale in ("zh-CN", "en"):
        text = render(catalogue, "sms", locale, figures=LoanFigures(), template=template).body
        assert "None" not in text and "0123" in text


def test_a_voicemail_names_the_lender_and_the_number_to_call_back(catalogue):
    text = render(catalogue, "voice", "en").body
    assert "Acme Credit" in text and "400-800-1234" in text


def test_a_voice_template_that_reaches_for_the_debt_is_refused_at_load_with_line_and_variable():
    source = "Hello, this is {{ lender }}.\nYou owe {{ amount }}, {{ name }}."
    with pytest.raises(TemplateRefused) as refused:
        TemplateCatalogue({TemplateKey("voice", "chatty", "en"): source})
    assert "line 2: 'amount' is not limited content" in str(refused.value)
    assert "line 2: 'name' is not limited content" in str(refused.value)


def test_the_same_variables_are_fine_in_a_text_message():
    TemplateCatalogue({TemplateKey("sms", "plain", "en"): "You owe {{ amount }}, {{ name }}."})


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_legal_stage_sends_a_lawful_pre_litigation_letter(catalogue, locale):
    key = catalogue.resolve("letter", "no_such_template", locale, "legal")
    assert key.name == "legal_notice"
    letter = catalogue.render(key, message_context("张三", "loan-000123", FIGURES, key.locale, "legal"))
    assert letter.subject and "Acme Credit" in letter.body and "1,234.50" in letter.body
    assert "app" in letter.body.lower() and "30" in letter.body, "how to pay and how to dispute, with the dispute window"


def test_a_legal_stage_text_message_falls_back_to_the_firm_notice(catalogue):
    assert catalogue.resolve("sms", "no_such_template", "en", "legal").name == "overdue_notice"
