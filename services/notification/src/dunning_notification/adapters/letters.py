"""Letters as PDF, for the print-and-post provider. The font must carry every character of the letter:
a Chinese letter needs a CJK font (letter_font_path, or one of the usual system fonts)."""

import base64
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

# Looked for in order when no font is configured; the first that carries the letter's characters wins.
CANDIDATE_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


class NoFontForLetter(Exception):
    """No font at hand can print this letter; it is sent as text for the provider to typeset."""


@lru_cache(maxsize=8)
def _characters(path: str) -> frozenset[int]:
    font = TTFont(path, fontNumber=0, lazy=True)
    return frozenset(font.getBestCmap())


def font_for(text: str, configured: str | None = None) -> str:
    needed = {ord(ch) for ch in text if not ch.isspace()}
    for path in ([configured] if configured else []) + list(CANDIDATE_FONTS):
        if Path(path).exists() and needed <= _characters(path):
            return path
    raise NoFontForLetter("no installed font carries every character of this letter")


def render_pdf(title: str, body: str, font_path: str | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.add_font("letter", fname=font_for(title + body, font_path))
    pdf.set_font("letter", size=14)
    pdf.multi_cell(0, 10, text=title)
    pdf.ln(4)
    pdf.set_font("letter", size=11)
    pdf.multi_cell(0, 7, text=body)
    return bytes(pdf.output())


def pdf_base64(title: str, body: str, font_path: str | None = None) -> str | None:
    """The letter as base64 PDF, or None when no font can print it (the text then travels alone)."""
    try:
        return base64.b64encode(render_pdf(title, body, font_path)).decode()
    except NoFontForLetter:
        return None
