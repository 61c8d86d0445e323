import re

import pytest

from dunning_legal.adapters.pdf import CjkFontMissing, cjk_font_path, render
from dunning_legal.domain.evidence import EvidenceFile
from dunning_legal.domain.letters import demand_letter


def bundle() -> dict:
    parts = {
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
