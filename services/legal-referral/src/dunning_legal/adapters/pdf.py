"""The evidence file as a PDF: the demand letter first, then each part of the file with its digest.

Chinese text needs a CJK font, which comes from the `noto-cjk-sans-otc` package (Noto Sans CJK,
SIL Open Font License). Without it an English file can still be made, with a core font."""

from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from dunning_legal.domain.letters import Letter

FONT = "NotoSansCJK"
# In the Noto Sans CJK collection, face 2 is Simplified Chinese (JP, KR, SC, TC, HK, then the mono faces).
SIMPLIFIED_CHINESE_FACE = 2
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
TITLES = {"arrangements": "Promises, holds and repayment plans"}
# An outcome whose start was never received (a PromiseKept without its PromiseMade) has no terms to show.
NO_TERMS = "terms not received"


class CjkFontMissing(RuntimeError):
    pass


def cjk_font_path() -> str | None:
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    return str(noto_cjk_sans_otc.FONT_PATH)


def render(letter: Letter, bundle: dict[str, Any]) -> bytes:
    pdf = _document(letter, bundle)
    _letter_page(pdf, letter)
    _evidence_pages(pdf, bundle)
    return bytes(pdf.output())


class EvidencePdf(FPDF):
    def __init__(self, font_path: str | None) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=18)
        self.text_font = FONT if font_path else "helvetica"
        if font_path:
            self.add_font(FONT, "", font_path, collection_font_number=SIMPLIFIED_CHINESE_FACE)

    def use_size(self, size: float) -> None:
        self.set_font(self.text_font, size=size)

    def fit(self, text: str) -> str:
        # The core font covers Latin-1 only; with it, other characters show as '?' rather than failing.
        if self.text_font == FONT:
            return text
        return text.replace("·", "-").encode("latin-1", "replace").decode("latin-1")


def _document(letter: Letter, bundle: dict[str, Any]) -> EvidencePdf:
    font = cjk_font_path()
    if font is None and letter.locale != "en":
        raise CjkFontMissing(
            "a zh-CN letter needs the CJK font of the noto-cjk-sans-otc package, which is not installed"
        )
    pdf = EvidencePdf(font)
    pdf.set_lang(letter.locale)
    pdf.set_title(f"{letter.title} - {bundle['legal_case_id']}")
    pdf.set_subject(f"evidence file of loan {bundle['loan_id']}")
    pdf.set_keywords(f"file-digest:{bundle['file_digest']} legal-case:{bundle['legal_case_id']}")
    pdf.set_creator("dunning legal-referral")
    return pdf


def _letter_page(pdf: EvidencePdf, letter: Letter) -> None:
    pdf.add_page()
    pdf.use_size(18)
    pdf.cell(0, 14, pdf.fit(letter.title), align="C", **NEXT_LINE)
    pdf.use_size(11)
    pdf.ln(4)
    # Chinese has no spaces to break lines at: a line may break between any two characters.
    wrap = WrapMode.CHAR if letter.locale == "zh-CN" else WrapMode.WORD
    pdf.multi_cell(0, 7, pdf.fit(letter.salutation), align="L", wrapmode=wrap, **NEXT_LINE)
    for paragraph in letter.paragraphs:
        pdf.ln(2)
        pdf.multi_cell(0, 7, pdf.fit(paragraph), align="L", wrapmode=wrap, **NEXT_LINE)
    pdf.ln(8)
    for line in letter.signature:
        pdf.cell(0, 7, pdf.fit(line), align="R", **NEXT_LINE)


def _evidence_pages(pdf: EvidencePdf, bundle: dict[str, Any]) -> None:
    pdf.add_page()
    _heading(pdf, "Evidence file", 16)
    _lines(
        pdf,
        [
            f"Legal case {bundle['legal_case_id']} · collection case {bundle['case_id']} · loan {bundle['loan_id']}",
            f"As it stood at {bundle['as_of']}",
            f"File digest (SHA-256 over the part digests): {bundle['file_digest']}",
            "Each part's digest is the SHA-256 of its canonical JSON in the JSON bundle (GET .../file).",
        ],
    )
    parts, digests = bundle["parts"], bundle["digests"]["parts"]
    for name, rows in _sections(parts).items():
        pdf.ln(3)
        _heading(pdf, TITLES.get(name, name.replace("_", " ").capitalize()), 13)
        _lines(pdf, [f"SHA-256 {digests[name]}", *rows] if rows else [f"SHA-256 {digests[name]}", "(none)"], size=9)


def _sections(parts: dict[str, Any]) -> dict[str, list[str]]:
    sections = {
        "loan_snapshot": _loan_lines(parts["loan_snapshot"]),
        "overdue_history": [_overdue_line(entry) for entry in parts["overdue_history"]],
        "contact_attempts": [_attempt_line(attempt) for attempt in parts["contact_attempts"]],
        "escalation": _escalation_lines(parts["escalation"]),
    }
    if "arrangements" in parts:
        sections["arrangements"] = _arrangement_lines(parts["arrangements"])
    return sections


def _arrangement_lines(arrangements: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Promises, holds and plans in one chronology: a reader sees what was agreed, then what became of it."""
    dated = [(item.get("made_at"), _promise_line(item)) for item in arrangements["promises"]]
    dated += [(item.get("placed_at"), _hold_line(item)) for item in arrangements["holds"]]
    dated += [(item.get("agreed_at"), _plan_line(item)) for item in arrangements["plans"]]
    return [line for _, line in sorted(dated, key=lambda pair: _instant(pair[0]))]


def _promise_line(p: dict[str, Any]) -> str:
    outcome = f"{p['status']} at {p['status_at']}" if p["status_at"] else p["status"]
    if p.get("broken_promises"):
        outcome += f" ({p['broken_promises']} broken so far)"
    terms = f"{p['currency']} {p['amount']} by {p['promised_date']}" if p["made_at"] else NO_TERMS
    return f"{p['made_at'] or '?'}  promise {p['promise_id']}: {terms}; {outcome}"


def _hold_line(h: dict[str, Any]) -> str:
    ended = f"released ({h['released_because']}) at {h['released_at']}" if h["released_at"] else "not released"
    terms = f"until {h['expires_at']}" if h["placed_at"] else NO_TERMS
    return f"{h['placed_at'] or '?'}  hold {h['hold_id']} ({h['reason']}) {terms}; {ended}"


def _plan_line(p: dict[str, Any]) -> str:
    steps = ", ".join(f"#{i['seq']} {i['due_date']} {i['amount']}" for i in p["installments"])
    terms = f"{p['currency']} {p['total']} in {steps}" if p["agreed_at"] else NO_TERMS
    outcome = f"{p['status']} at {p['status_at']}" if p["status_at"] else p["status"]
    if p.get("missed_seq"):
        outcome += f" (missed instalment #{p['missed_seq']})"
    return f"{p['agreed_at'] or '?'}  plan {p['plan_id']}: {terms}; {outcome}"


def _instant(iso: str | None) -> datetime:
    # An outcome heard without its start (a PromiseKept whose PromiseMade never came) goes first.
    return datetime.fromisoformat(iso) if iso else datetime.min.replace(tzinfo=UTC)


def _loan_lines(snapshot: dict[str, Any]) -> list[str]:
    booking, latest = snapshot.get("booking") or {}, snapshot.get("latest_overdue") or {}
    keys = [
        ("lender", booking),
        ("product", booking),
        ("currency", booking),
        ("principal", booking),
        ("booked_at", booking),
        ("overdue_since", latest),
        ("days_past_due", latest),
        ("overdue_amount", latest),
        ("penalty_accrued", latest),
        ("outstanding_balance", latest),
        ("as_of", latest),
    ]
    return [f"{key.replace('_', ' ')}: {source[key]}" for key, source in keys if source.get(key) is not None]


def _overdue_line(entry: dict[str, Any]) -> str:
    data = entry["data"]
    if entry["type"] == "OverdueCleared":
        return f"{entry['occurred_at']}  cleared ({data.get('reason')})"
    return f"{entry['occurred_at']}  {data.get('days_past_due')} days past due, overdue {_amount(data)}"


def _attempt_line(attempt: dict[str, Any]) -> str:
    return _agent_contact_line(attempt) if "kind" in attempt else _reminder_line(attempt)


def _agent_contact_line(contact: dict[str, Any]) -> str:
    reached = "reached" if contact["connected"] else "not reached"
    by = f"agent {contact['agent_id']}" if contact.get("agent_id") else "agent not named"
    what = f"{contact['kind'].replace('_', ' ')} {contact['task_id']}, {by}"
    return f"{contact['occurred_at']}  {contact['channel']}  {contact['outcome']} ({reached})  {what}"


def _reminder_line(attempt: dict[str, Any]) -> str:
    reason = f" ({attempt['reason']})" if attempt.get("reason") else ""
    channel, status, reminder = attempt["channel"], attempt["status"], attempt["reminder_id"]
    return f"{attempt['occurred_at']}  {channel}  {status}{reason}  reminder {reminder}"


def _escalation_lines(escalation: dict[str, Any]) -> list[str]:
    return [
        f"{escalation.get('from_stage')} -> {escalation.get('to_stage')} at {escalation.get('escalated_at')}",
        f"reason: {escalation.get('reason')}",
        f"{escalation.get('days_past_due')} days past due, overdue {_amount(escalation)}",
    ]


def _amount(data: dict[str, Any]) -> str:
    return f"{data.get('currency')} {data.get('overdue_amount')}"


def _heading(pdf: EvidencePdf, text: str, size: float) -> None:
    pdf.use_size(size)
    pdf.cell(0, 10, pdf.fit(text), **NEXT_LINE)


def _lines(pdf: EvidencePdf, lines: list[str], size: float = 10) -> None:
    pdf.use_size(size)
    for line in lines:
        pdf.multi_cell(0, 5.5, pdf.fit(line), align="L", **NEXT_LINE)
