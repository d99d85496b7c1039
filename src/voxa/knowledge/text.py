"""Plain text out of what an owner uploads, and passages out of plain text.

HTML is reduced to its text with the standard library's parser (never
rendered; script and style content is dropped); PDF text comes from ``pypdf``.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from html.parser import HTMLParser

from voxa.errors import InvalidInput

KINDS = ("faq", "text", "markdown", "html", "pdf")
PASSAGE_CHARS = 500
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                         "section", "article", "blockquote", "pre", "table", "ul", "ol", "dd",
                         "dt"})
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def pdf_text(encoded: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("a PDF is sent as base64", code="invalid_document") from exc
    try:
        reader = PdfReader(io.BytesIO(raw))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInput("this PDF cannot be read", code="invalid_document") from exc


def normalize(text: str) -> str:
    """Collapse runs of spaces inside lines; keep blank lines (paragraphs)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def extract(kind: str, content: str) -> str:
    """The plain text of ``content`` uploaded as ``kind`` (not ``faq``)."""
    if kind == "html":
        return normalize(html_text(content))
    if kind == "pdf":
        return normalize(pdf_text(content))
    return normalize(content)


def faq_text(question: str, answer: str) -> str:
    return normalize(f"Q: {question}\nA: {answer}")


def split_passages(text: str, size: int = PASSAGE_CHARS) -> list[str]:
    """Pieces of about ``size`` characters, broken at paragraphs, then sentences,
    then words, so a passage reads on its own."""
    out: list[str] = []
    current = ""
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        for piece in _pieces(para, size):
            if current and len(current) + 2 + len(piece) > size:
                out.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        out.append(current)
    return out


def _pieces(para: str, size: int) -> list[str]:
    if len(para) <= size:
        return [para]
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+", para):
        words = [sentence] if len(sentence) <= size else _words(sentence, size)
        for w in words:
            if current and len(current) + 1 + len(w) > size:
                pieces.append(current)
                current = w
            else:
                current = f"{current} {w}" if current else w
    if current:
        pieces.append(current)
    return pieces


def _words(sentence: str, size: int) -> list[str]:
    out: list[str] = []
    for word in sentence.split():
        while len(word) > size:
            out.append(word[:size])
            word = word[size:]
        out.append(word)
    return out
