"""Telegram HTML: escaping, the article Markdown subset rendered to HTML, splitting long messages at Telegram's
limit, and the check that a text parses as Telegram HTML (what Telegram would reject as "can't parse entities")."""

from __future__ import annotations

import html
import re

TELEGRAM_TEXT_LIMIT = 4096


class Html(str):
    """A string that is already safe Telegram HTML; ``Texts`` inserts it without escaping."""

    __slots__ = ()


def escape(value: object) -> str:
    """Escape any value for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


_INLINE = re.compile(
    r"\[(?P<ltext>[^\]\n]+)\]\((?P<url>https?://[^)\s]+)\)"
    r"|\*\*(?P<bold>[^*\n]+)\*\*"
    r"|(?<![\w])_(?P<ital>[^_\n]+)_(?![\w])"
)


def render_inline(text: str) -> str:
    """Escape text and turn the inline Markdown forms **b**, _i_ and [t](url) into Telegram HTML."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        if match.group("ltext") is not None:
            out.append(f'<a href="{escape(match.group("url"))}">{escape(match.group("ltext"))}</a>')
        elif match.group("bold") is not None:
            out.append(f"<b>{escape(match.group('bold'))}</b>")
        else:
            out.append(f"<i>{escape(match.group('ital'))}</i>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def render_markdown_sections(body: str) -> list[str]:
    """Render the article Markdown subset; each ``## `` heading starts a new section."""
    sections: list[list[str]] = [[]]
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line.rstrip() for line in block.strip().splitlines()]
        rendered: list[str] = []
        for line in lines:
            if line.startswith("## "):
                if sections[-1] or rendered:
                    if rendered:
                        sections[-1].append("\n".join(rendered))
                        rendered = []
                    sections.append([])
                rendered.append(f"<b>{render_inline(line[3:].strip())}</b>")
            elif re.match(r"^\s*[-*] ", line):
                rendered.append("• " + render_inline(re.sub(r"^\s*[-*] ", "", line)))
            else:
                rendered.append(render_inline(line))
        if rendered:
            sections[-1].append("\n".join(rendered))
    return ["\n\n".join(parts) for parts in sections if parts]


def split_message(parts: list[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pack HTML parts into messages ≤ limit, breaking only between parts, then between paragraphs/lines."""
    pieces: list[str] = []
    for part in parts:
        if visible_length(part) <= limit:
            pieces.append(part)
            continue
        for para in part.split("\n"):
            pieces.extend(_hard_split(para, limit))
    messages: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if visible_length(candidate) <= limit:
            current = candidate
        else:
            if current:
                messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _hard_split(paragraph: str, limit: int) -> list[str]:
    if visible_length(paragraph) <= limit:
        return [paragraph]
    # A single over-long paragraph: fall back to plain text so no tag is cut in half.
    plain = escape(html_to_plain(paragraph))
    chunks, current = [], ""
    for word in plain.split(" "):
        candidate = f"{current} {word}" if current else word
        if visible_length(candidate) > limit and current:
            chunks.append(current)
            current = word
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


_TAG = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def visible_length(text: str) -> int:
    """Length as Telegram counts it: visible text after entity parsing, in UTF-16 code units."""
    return len(html_to_plain(text).encode("utf-16-le")) // 2


_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}
_TAG_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


def check_telegram_html(text: str) -> None:
    """Raise ValueError where Telegram would answer "can't parse entities"."""
    stack: list[str] = []
    pos = 0
    for match in _TAG_TOKEN.finditer(text):
        _check_plain(text[pos : match.start()])
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if name not in _ALLOWED_TAGS:
            raise ValueError(f"unsupported tag <{name}>")
        if closing:
            if not stack or stack[-1] != name:
                raise ValueError(f"unexpected </{name}>")
            stack.pop()
        else:
            if name == "a" and not re.match(r'^\s+href="[^"]*"\s*$', attrs):
                raise ValueError("<a> needs exactly one href attribute")
            stack.append(name)
        pos = match.end()
    _check_plain(text[pos:])
    if stack:
        raise ValueError(f"unclosed <{stack[-1]}>")


def _check_plain(chunk: str) -> None:
    if "<" in chunk or ">" in chunk:
        raise ValueError("bare '<' or '>' in text")
    for amp in re.finditer("&", chunk):
        if not _ENTITY.match(chunk, amp.start()):
            raise ValueError("bare '&' in text")
