import re

import pytest
from legal_testkit.pdf_text import pdf_text

from dunning_legal.adapters.pdf import CjkFontMissing, cjk_font_path, render
from dunning_legal.domain.evidence import EvidenceFile
from dunning_legal.domain.letters import demand_letter


ARRANGEMENTS = {
    "promises": [
        {
            "promise_id": "P-1",
            "made_at": "2026-11-21T09:00:00+00:00",
            "amount": "500.00",
            "currency": "CNY",
            "promised_date": "2026-11-25",
            "status": "broken",
            "status_at": "2026-11-26T00:00:00+00:00",
            "broken_promises": 1,
        }
    ],
    "holds": [
        {
            "hold_id": "H-1",
            "reason": "dispute",
            "placed_at": "2026-11-19T09:00:00+00:00",
            "expires_at": "2026-11-22T09:00:00+00:00",
            "released_at": "2026-11-20T09:00:00+00:00",
            "released_because": "resolved",
        }
    ],
    "plans": [],
}


def bundle(**more_parts) -> dict:
    parts = more_parts | {
        "loan_snapshot": {"loan_id": "L-1", "booking": None, "latest_overdue": {"days_past_due": 92}},
        "overdue_history": [],
        "contact_attempts": [
            {
                "reminder_id": "R-1",
                "channel": "sms",
                "status": "delivered",
                "reason": None,
                "occurred_at": "2026-11-20T09:00:00+00:00",
            }
        ],
        "escalation": {"from_stage": "field_visit", "to_stage": "legal", "reason": "dpd 92"},
    }
    return EvidenceFile(parts).as_bundle(
        {"legal_case_id": "lc-1", "case_id": "C-1", "loan_id": "L-1", "as_of": "2026-11-27T09:00:00+00:00"}
    )


needs_cjk_font = pytest.mark.skipif(cjk_font_path() is None, reason="the noto-cjk-sans-otc package is not installed")


@needs_cjk_font
def test_a_chinese_evidence_file_embeds_the_cjk_font_and_names_its_digest(facts):
    content = render(demand_letter(facts, "zh-CN"), bundle())
    assert content.startswith(b"%PDF-")
    assert b"NotoSansCJK" in content
    assert len(re.findall(rb"/Type /Page\b", content)) == 2
    assert bundle()["file_digest"].encode() in content


def test_an_english_evidence_file_is_made_even_without_the_cjk_font(facts, monkeypatch):
    monkeypatch.setattr("dunning_legal.adapters.pdf.cjk_font_path", lambda: None)
    content = render(demand_letter(facts, "en"), bundle())
    assert content.startswith(b"%PDF-") and b"NotoSansCJK" not in content


def test_without_the_cjk_font_a_chinese_letter_is_refused_plainly(facts, monkeypatch):
    monkeypatch.setattr("dunning_legal.adapters.pdf.cjk_font_path", lambda: None)
    with pytest.raises(CjkFontMissing, match="noto-cjk-sans-otc"):
        render(demand_letter(facts, "zh-CN"), bundle())


@pytest.mark.parametrize("font", ["cjk", "core"])
def test_the_file_has_a_section_of_promises_and_holds_in_time_order(facts, monkeypatch, font):
    if font == "core":
        monkeypatch.setattr("dunning_legal.adapters.pdf.cjk_font_path", lambda: None)
    elif cjk_font_path() is None:
        pytest.skip("the noto-cjk-sans-otc package is not installed")
    with_arrangements = bundle(arrangements=ARRANGEMENTS)

    # Lines wrap at spaces: read the text as one run of words.
    text = " ".join(pdf_text(render(demand_letter(facts, "en"), with_arrangements)).split())

    section = text[text.index("Promises, holds and repayment plans") :]
    assert f"SHA-256 {with_arrangements['digests']['parts']['arrangements']}" in section
    hold, promise = section.index("hold H-1 (dispute)"), section.index("promise P-1: CNY 500.00 by 2026-11-25")
    assert hold < promise
    assert "released (resolved) at 2026-11-20T09:00:00+00:00" in section
    assert "broken at 2026-11-26T00:00:00+00:00 (1 broken so far)" in section


def test_a_file_without_case_events_has_no_such_section(facts, monkeypatch):
    monkeypatch.setattr("dunning_legal.adapters.pdf.cjk_font_path", lambda: None)
    assert "Promises, holds" not in pdf_text(render(demand_letter(facts, "en"), bundle()))


AGENT_CALL = {
    "kind": "agent_call",
    "channel": "phone",
    "task_id": "T-1",
    "case_id": "C-1",
    "agent_id": "agent-7",
    "connected": False,
    "outcome": "no_answer",
    "occurred_at": "2026-11-21T09:00:00+00:00",
    "event": "urn:dunning:dunning-scheduler#e-1",
}


def test_an_agents_call_is_listed_with_the_reminders_with_its_outcome_and_agent(facts, monkeypatch):
    monkeypatch.setattr("dunning_legal.adapters.pdf.cjk_font_path", lambda: None)
    file = bundle()
    file["parts"]["contact_attempts"].append(AGENT_CALL)

    text = " ".join(pdf_text(render(demand_letter(facts, "en"), file)).split())

    section = text[text.index("Contact attempts") :]
    reminder = section.index("2026-11-20T09:00:00+00:00 sms delivered reminder R-1")
    call = section.index("2026-11-21T09:00:00+00:00 phone no_answer (not reached) agent call T-1, agent agent-7")
    assert reminder < call
