"""Telegram's HTML parse mode, re-implemented for the fake Bot API server.

The parser follows the one in TDLib (``td/telegram/MessageEntity.cpp``, ``parse_html``) that the Bot API
server uses: the same supported tags, the same nesting rule, the same error texts and byte offsets. It
returns the visible text and its entities with offsets and lengths in UTF-16 code units, as Telegram does.

One deliberate difference: Telegram passes a bare ``&`` that starts no entity through as text, although
its documentation says every ``&`` must be escaped. With ``strict_ampersand`` (the default) such an ``&``
is an error here, so that a missing ``html.escape`` is caught by the tests instead of being tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "ParsedText", "parse_html", "strip_formatted", "utf16_len"]

# TDLib's is_space (without the NUL byte that ends its C strings).
_SPACE = frozenset(" \t\r\n\v")

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is the part after "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text and its message entities (Bot API dicts, UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int
    expandable: bool = False


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's lengths and offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decodes the character reference at ``source[pos] == "&"``; returns (character, next index)."""
    end = pos + 1
    if source.startswith("#", end):
        end += 1
        code = 0
        if source.startswith("x", end):
            end += 1
            digits_start = end
            while end < len(source) and source[end] in "0123456789abcdefABCDEF":
                end += 1
            digits = source[digits_start:end]
            code = int(digits, 16) if digits and len(digits) < 8 else 0
        else:
            digits_start = end
            while end < len(source) and source[end].isascii() and source[end].isdigit():
                end += 1
            digits = source[digits_start:end]
            code = int(digits) if digits and len(digits) < 9 else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        character = chr(code)
    else:
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        name = source[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        character = _NAMED_ENTITIES[name]
    if source.startswith(";", end):
        end += 1
    return character, end


def _skip_spaces(source: str, i: int) -> int:
    while i < len(source) and source[i] in _SPACE:
        i += 1
    return i


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parses Telegram HTML into visible text and entities, or raises :class:`EntityParseError`."""
    out: list[str] = []
    utf16_offset = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                character, i = decoded
                out.append(character)
                utf16_offset += utf16_len(character)
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(source, i)} '
                    "(Telegram's documentation requires &amp;)"
                )
        if c != "<":
            out.append(c)
            utf16_offset += utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if i >= n or source[i] != "/":
            i = _parse_start_tag(source, begin, stack, utf16_offset, len(out), strict_ampersand)
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        name_start = i
        while i < n and source[i] not in _SPACE and source[i] != ">":
            i += 1
        end_name = source[name_start:i].lower()
        i = _skip_spaces(source, i)
        if i >= n or source[i] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                f'expected "</{opened.name}>", found "</{end_name}>"'
            )
        if utf16_offset > opened.utf16_offset:
            entity = _make_entity(opened, utf16_offset, "".join(out[opened.text_index :]), stack)
            if entity is not None:
                entities.append(entity)

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)


def _parse_start_tag(
    source: str, begin: int, stack: list[_OpenTag], utf16_offset: int, text_index: int, strict: bool
) -> int:
    """Parses ``<tag attr="value">`` starting at ``begin``, pushes it and returns the index after it."""
    n = len(source)
    byte_begin = _byte_offset(source, begin)
    i = begin + 1
    while i < n and source[i] not in _SPACE and source[i] != ">":
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
    tag = source[begin + 1 : i].lower()
    if tag not in _SUPPORTED_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_begin}')

    argument = ""
    expandable = False
    while True:
        i = _skip_spaces(source, i)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if source[i] == ">":
            break
        name_start = i
        while i < n and source[i] not in _SPACE and source[i] not in "=>":
            i += 1
        attribute = source[name_start:i].lower()
        if not attribute:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {byte_begin}')
        i = _skip_spaces(source, i)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if source[i] != "=":
            if tag == "blockquote" and attribute == "expandable":
                expandable = True
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {byte_begin}"
            )
        i = _skip_spaces(source, i + 1)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if source[i] not in "'\"":
            match = _NAME_TOKEN.match(source, i)
            assert match is not None  # the pattern also matches the empty string
            value = match.group().lower()
            token_start, i = i, match.end()
            if i < n and source[i] not in _SPACE and source[i] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(source, token_start)}"
                )
        else:
            quote = source[i]
            i += 1
            chars: list[str] = []
            while i < n and source[i] != quote:
                if source[i] == "&":
                    decoded = _decode_entity(source, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                    if strict:
                        raise EntityParseError(
                            f'Unescaped "&" at byte offset {_byte_offset(source, i)} '
                            "(Telegram's documentation requires &amp;)"
                        )
                chars.append(source[i])
                i += 1
            if i < n:
                i += 1
            value = "".join(chars)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if tag == "a" and attribute == "href":
            argument = value
        elif tag == "code" and attribute == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif tag == "span" and attribute == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif tag == "tg-emoji" and attribute == "emoji-id":
            argument = value
        elif tag == "blockquote" and attribute == "expandable":
            expandable = True

    if tag == "span" and argument != "spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_begin}')
    if tag == "tg-emoji" and not (argument.isdigit() and int(argument) != 0):
        raise EntityParseError("Invalid custom emoji identifier specified")
    stack.append(_OpenTag(tag, argument, utf16_offset, text_index, expandable))
    return i + 1


def _make_entity(
    opened: _OpenTag, utf16_end: int, inner_text: str, stack: list[_OpenTag]
) -> dict[str, Any] | None:
    offset = opened.utf16_offset
    length = utf16_end - offset
    if opened.name == "code" and opened.argument and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as in TDLib.
        stack[-1].argument = opened.argument
        return None
    if opened.name in _SIMPLE_ENTITY_TYPES:
        return {"type": _SIMPLE_ENTITY_TYPES[opened.name], "offset": offset, "length": length}
    if opened.name == "a":
        return {"type": "text_link", "offset": offset, "length": length, "url": opened.argument or inner_text}
    if opened.name == "pre":
        entity: dict[str, Any] = {"type": "pre", "offset": offset, "length": length}
        if opened.argument:
            entity["language"] = opened.argument
        return entity
    if opened.name == "blockquote":
        kind = "expandable_blockquote" if opened.expandable else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    if opened.name == "tg-emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": opened.argument,
        }
    return None


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Trims surrounding whitespace like Telegram and moves or clips the entities to match."""
    stripped = text.strip()
    if stripped == text:
        return ParsedText(text, [dict(e) for e in entities])
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(total, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, result)
