"""The case file as a PDF with the demand letter, against real PostgreSQL and a real broker."""

import re

import pytest

from dunning_legal.adapters.pdf import cjk_font_path


async def referred_loan(legal, events, *, locale: str) -> str:
    loan_id = events.new_loan_id()
    sent = [
        await legal.send("LoanBooked", events.booked(loan_id, region="CN-SH", locale=locale)),
        await legal.send("LoanOverdue", events.overdue(loan_id)),
        await legal.send("ReminderSent", events.reminder_sent(loan_id)),
    ]
    await legal.handled(*sent)
    await legal.send("CaseEscalated", events.escalation(loan_id))
    return (await legal.referral_of(loan_id))["legal_case_id"]


@pytest.mark.skipif(cjk_font_path() is None, reason="the noto-cjk-sans-otc package is not installed")
async def test_a_chinese_borrower_gets_a_chinese_letter_in_a_pdf_naming_the_file_digest(legal, events):
    legal_case_id = await referred_loan(legal, events, locale="zh-CN")
    digest = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file")).json()["file_digest"]

    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and b"NotoSansCJK" in response.content
    assert f"file-digest:{digest}".encode() in response.content
    assert b"/Lang (zh-CN)" in response.content


async def test_an_english_letter_can_be_asked_for_and_the_pdf_has_the_letter_and_the_file(legal, events):
    legal_case_id = await referred_loan(legal, events, locale="en")

    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file.pdf", params={"locale": "en"})

    assert response.status_code == 200, response.text
    assert b"/Lang (en)" in response.content
    assert len(re.findall(rb"/Type /Page\b", response.content)) >= 2


async def test_the_borrower_name_is_kept_only_encrypted(legal, events):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id)))

    row = await legal.fetch_one(
        "SELECT borrower_name_sealed, booking::text AS booking FROM legal.loans WHERE loan_id = $1", loan_id
    )

    assert row["borrower_name_sealed"] and "张伟".encode() not in row["borrower_name_sealed"]
    assert "张伟" not in row["booking"] and "+8613800138000" not in row["booking"]


async def test_the_file_cited_at_filing_can_be_rebuilt_after_more_evidence_arrives(legal, events, clock):
    loan_id = events.new_loan_id()
    first = events.reminder_sent(loan_id)
    await legal.handled(await legal.send("ReminderSent", first))
    await legal.send("CaseEscalated", events.escalation(loan_id))
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]
    moves = legal.client.post
    for status in ("accepted", "filed"):
        assert (await moves(f"/v1/legal-cases/{legal_case_id}/status", json={"status": status})).status_code == 200
    filed = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}")).json()["audit_trail"][-1]

    clock.advance(days=2)
    later = events.reminder_sent(loan_id, "failed")
    await legal.handled(await legal.send("ReminderSent", later), await legal.send("LoanBooked", events.booked(loan_id)))

    as_filed = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file", params={"as_of": filed["at"]})).json()
    now = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file")).json()
    assert filed["note"] == f"filed with evidence file {as_filed['file_digest']} as of {as_filed['as_of']}"
    assert [a["reminder_id"] for a in as_filed["parts"]["contact_attempts"]] == [first.reminder_id]
    assert [a["reminder_id"] for a in now["parts"]["contact_attempts"]] == [first.reminder_id, later.reminder_id]
    assert (as_filed["parts"]["loan_snapshot"]["booking"], now["parts"]["loan_snapshot"]["booking"]["lender"]) == (
        None,
        "acme-lending",
    )
    assert now["file_digest"] != as_filed["file_digest"]


async def test_a_file_from_the_future_is_refused(legal, events, clock):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]
    tomorrow = (clock.now().replace(day=28)).isoformat()

    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file", params={"as_of": tomorrow})

    assert response.status_code == 422
    assert response.json()["detail"] == "as_of is in the future: a file can be shown only as it was"
