"""The text of the PDFs this service makes, read back without a PDF library: enough to check what a
reader of the file would see.

fpdf2 writes each line as a string shown with `Tj` in a deflated content stream. With the core font the
string is the text itself; with the embedded CJK font it is two-byte glyph codes, which the font's
ToUnicode map turns back into characters."""

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\) ?Tj", re.S)
_TO_UNICODE = re.compile(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]{4,})>")
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def pdf_text(content: bytes) -> str:
    """Every shown string of the document, one per line, in page order."""
    streams = [_inflate(raw) for raw in _STREAM.findall(content)]
    glyphs = {code: text for stream in streams if b"Ordering (UCS)" in stream for code, text in _unicode_map(stream)}
    shown = [_unescape(raw) for stream in streams for raw in _SHOWN.findall(stream)]
    return "\n".join(_decode(string, glyphs) for string in shown)


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error:
        return raw


def _unicode_map(cmap: bytes) -> list[tuple[int, str]]:
    pairs = _TO_UNICODE.findall(cmap)
    return [(int(code, 16), bytes.fromhex(text.decode()).decode("utf-16-be")) for code, text in pairs]


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return _ESCAPED.get(escaped, escaped)

    return _ESCAPE.sub(one, raw)


def _decode(string: bytes, glyphs: dict[int, str]) -> str:
    if not glyphs:
        return string.decode("latin-1")
    codes = [int.from_bytes(string[i : i + 2], "big") for i in range(0, len(string), 2)]
    return "".join(glyphs.get(code, "\ufffd") for code in codes)
