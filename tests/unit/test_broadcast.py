"""Announcement rules: the coordinator's formatting made safe, length, link button, German send times."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import MessageEntity

from bot.broadcast import (
    AnnouncementError,
    check_body,
    duration,
    entities_to_html,
    message_html,
    number,
    parse_button,
    parse_send_time,
)
from bot.content import Content
from bot.telegram_html import check_telegram_html, visible_length
from bot.texts import Texts
from tests.e2e.tghtml import parse_html

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts(content: Content) -> Texts:
    return content.texts


def entity(kind: str, offset: int, length: int, **extra: str) -> MessageEntity:
    return MessageEntity(kind, offset, length, **extra)  # type: ignore[arg-type]


def test_plain_text_is_escaped() -> None:
    assert entities_to_html("a <b> & </script>", []) == "a &lt;b&gt; &amp; &lt;/script&gt;"


def test_formatting_is_kept_and_nested() -> None:
    text = "Frist endet bald: hier anmelden"
    html = entities_to_html(
        text,
        [
            entity(MessageEntity.BOLD, 0, 16),
            entity(MessageEntity.ITALIC, 6, 5),
            entity(MessageEntity.TEXT_LINK, 18, 13, url="https://ijab.de/?a=1&b=2"),
        ],
    )
    assert html == (
        '<b>Frist <i>endet</i> bald</b>: <a href="https://ijab.de/?a=1&amp;b=2">hier anmelden</a>'
    )
    check_telegram_html(html)


def test_offsets_count_utf16_like_telegram() -> None:
    # The emoji takes two UTF-16 code units; the bold word after it must still be found exactly.
    text = "🇩🇪 Neu: Förderung"
    start = len("🇩🇪 Neu: ".encode("utf-16-le")) // 2
    html = entities_to_html(text, [entity(MessageEntity.BOLD, start, len("Förderung"))])
    assert html == "🇩🇪 Neu: <b>Förderung</b>"


def test_unsafe_links_and_unknown_entities_stay_plain() -> None:
    text = "klick mich @ijab #ija"
    html = entities_to_html(
        text,
        [
            entity(MessageEntity.TEXT_LINK, 0, 10, url="javascript:alert(1)"),
            entity(MessageEntity.MENTION, 11, 5),
            entity(MessageEntity.HASHTAG, 17, 4),
        ],
    )
    assert html == "klick mich @ijab #ija"


def test_partial_overlap_is_split_not_dropped() -> None:
    html = entities_to_html("abcdef", [entity(MessageEntity.BOLD, 0, 4), entity(MessageEntity.ITALIC, 2, 4)])
    assert html == "<b>ab<i>cd</i></b><i>ef</i>"
    check_telegram_html(html)


def test_offsets_inside_an_emoji_keep_the_emoji_whole() -> None:
    # Offset 1 and end 4 fall inside the surrogate pairs of the two emoji: the emoji are kept, not mangled.
    html = entities_to_html("😀a😀", [entity(MessageEntity.BOLD, 1, 3)])
    assert html == "<b>😀a😀</b>"


def test_spoiler_quotes_custom_emoji_and_links_with_quotes() -> None:
    text = "Geheim 🎉 Zitat Link"
    emoji = len("Geheim ".encode("utf-16-le")) // 2
    html = entities_to_html(
        text,
        [
            entity(MessageEntity.SPOILER, 0, 6),
            entity(MessageEntity.CUSTOM_EMOJI, emoji, 2, custom_emoji_id="5368324170671202286"),
            entity(MessageEntity.EXPANDABLE_BLOCKQUOTE, emoji + 3, 5),
            entity(MessageEntity.TEXT_LINK, emoji + 9, 4, url="https://ijab.de/?q=\"a\"&x='b'<c>"),
        ],
    )
    assert html == (
        "<tg-spoiler>Geheim</tg-spoiler> 🎉 <blockquote expandable>Zitat</blockquote> "
        '<a href="https://ijab.de/?q=&quot;a&quot;&amp;x=&#x27;b&#x27;&lt;c&gt;">Link</a>'
    )
    parsed = parse_html(html)
    assert parsed.text == text
    [link] = [e for e in parsed.entities if e["type"] == "text_link"]
    assert link["url"] == "https://ijab.de/?q=\"a\"&x='b'<c>"


# Every entity type Telegram sends, with the attributes they carry; those without a tag must stay plain text.
_KINDS: list[tuple[str, dict[str, str]]] = [
    (MessageEntity.BOLD, {}),
    (MessageEntity.ITALIC, {}),
    (MessageEntity.UNDERLINE, {}),
    (MessageEntity.STRIKETHROUGH, {}),
    (MessageEntity.SPOILER, {}),
    (MessageEntity.CODE, {}),
    (MessageEntity.PRE, {}),
    (MessageEntity.PRE, {"language": "python"}),
    (MessageEntity.PRE, {"language": 'x" onload="y'}),
    (MessageEntity.BLOCKQUOTE, {}),
    (MessageEntity.EXPANDABLE_BLOCKQUOTE, {}),
    (MessageEntity.TEXT_LINK, {"url": 'https://ijab.de/?a="1"&b=<2>'}),
    (MessageEntity.TEXT_LINK, {"url": "http://ijab.de/'x'"}),
    (MessageEntity.TEXT_LINK, {"url": "javascript:alert(1)"}),
    (MessageEntity.CUSTOM_EMOJI, {"custom_emoji_id": "5368324170671202286"}),
    (MessageEntity.MENTION, {}),
    (MessageEntity.URL, {}),
    (MessageEntity.HASHTAG, {}),
]
_PIECES = [*"ab <>&\"'\n", "😀", "🇩🇪", "ä", "&amp;", "\u200d", "</b>", "<a href='x'>"]


def _coverage(items: list[tuple[str, str, int, int]]) -> dict[tuple[str, str], set[int]]:
    covered: dict[tuple[str, str], set[int]] = {}
    for kind, argument, offset, length in items:
        covered.setdefault((kind, argument), set()).update(range(offset, offset + length))
    return covered


def _utf16_edges(text: str) -> list[int]:
    edges = [0]
    for char in text:
        edges.append(edges[-1] + (2 if ord(char) > 0xFFFF else 1))
    return edges


def test_any_entities_render_to_html_telegram_parses_with_the_same_text_and_formatting() -> None:
    """Property over thousands of random texts and entity lists (nested, overlapping, crossing emoji): the
    result passes Telegram's HTML parser, shows exactly the coordinator's text, and every kept entity covers
    exactly the characters it covered in the coordinator's message."""
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 25)))
        edges = _utf16_edges(text)
        size = edges[-1]
        entities = []
        for _ in range(rng.randint(0, 7) if size else 0):
            offset = rng.randrange(size)
            kind, extra = rng.choice(_KINDS)
            entities.append(entity(kind, offset, rng.randint(1, size - offset), **extra))
        html = entities_to_html(text, entities)
        parsed = parse_html(html)  # raises on anything Telegram would refuse
        assert parsed.text == text, (text, html)
        expected = []
        for e in entities:
            if e.type in (MessageEntity.MENTION, MessageEntity.URL, MessageEntity.HASHTAG):
                continue
            if e.type == MessageEntity.CUSTOM_EMOJI or (e.url or "").startswith("javascript"):
                continue
            # Snap to whole characters as the renderer does.
            start = max(x for x in edges if x <= e.offset)
            end = min(x for x in edges if x >= min(size, e.offset + e.length))
            language = e.language if e.language and '"' not in e.language else ""
            expected.append((e.type, e.url or language, start, end - start))
        got = [
            (e["type"], e.get("url") or e.get("language") or "", e["offset"], e["length"])
            for e in parsed.entities
        ]
        assert _coverage(got) == _coverage(expected), (text, html)


def test_code_blocks_and_quotes() -> None:
    html = entities_to_html(
        "x = 1 < 2\nZitat",
        [entity(MessageEntity.PRE, 0, 9, language="python"), entity(MessageEntity.BLOCKQUOTE, 10, 5)],
    )
    assert (
        html == '<pre><code class="language-python">x = 1 &lt; 2</code></pre>\n<blockquote>Zitat</blockquote>'
    )


def test_empty_and_too_long_texts_are_refused(texts: Texts) -> None:
    with pytest.raises(AnnouncementError) as empty:
        check_body(texts, "  \n ", "  \n ")
    assert empty.value.key == "announcements.errors.empty"
    header = visible_length(message_html(texts, ""))
    fits = "x" * (4096 - header)
    check_body(texts, fits, fits)
    with pytest.raises(AnnouncementError) as long:
        check_body(texts, fits + "x", fits + "x")
    assert long.value.key == "announcements.errors.too_long"
    assert long.value.params["limit"] == 4096 - header
    # Length is what Telegram counts after parsing: tags and escapes do not count.
    check_body(texts, fits, f"<b>{fits[:-1]}&amp;</b>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zur Anmeldung | https://ijab.de/anmeldung", ("Zur Anmeldung", "https://ijab.de/anmeldung")),
        ("https://www.kommune-goes-international.de", ("Mehr", "https://www.kommune-goes-international.de")),
        ("  | https://ijab.de/x?y=1#z ", ("Mehr", "https://ijab.de/x?y=1#z")),
        ("A | B | https://ijab.de", ("A | B", "https://ijab.de")),
    ],
)
def test_link_buttons(text: str, expected: tuple[str, str]) -> None:
    assert parse_button(text, "Mehr") == expected


@pytest.mark.parametrize(
    "text",
    [
        "http://ijab.de",
        "javascript:alert(1)",
        "Mehr | https://",
        "https://localhost",
        "https://ijab .de",
        "https://user:pw@ijab.de",
        "https://ijab.de:99999",
        "ftp://ijab.de",
        "ijab.de",
        "",
    ],
)
def test_bad_links_are_refused(text: str) -> None:
    with pytest.raises(AnnouncementError) as error:
        parse_button(text, "Mehr")
    assert error.value.key == "announcements.errors.button_url"


def test_long_button_label_is_refused() -> None:
    with pytest.raises(AnnouncementError) as error:
        parse_button("x" * 41 + " | https://ijab.de", "Mehr")
    assert error.value.key == "announcements.errors.button_label"


def test_german_send_time_is_local() -> None:
    moment = parse_send_time("24.12.2026 09:00", BERLIN, NOW)
    assert moment == datetime(2026, 12, 24, 8, 0, tzinfo=UTC)  # winter: UTC+1
    assert parse_send_time("1.7.2027, 9.30 Uhr", BERLIN, NOW) == datetime(2027, 7, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("morgen früh", "announcements.errors.when_format"),
        ("24.12.2026", "announcements.errors.when_format"),
        ("31.02.2027 09:00", "announcements.errors.when_invalid"),
        ("24.12.2026 25:00", "announcements.errors.when_invalid"),
        ("28.03.2027 02:30", "announcements.errors.when_gap"),  # clocks go forward at 02:00
        ("24.11.2026 10:59", "announcements.errors.when_past"),  # 09:59 UTC, before NOW
        ("24.12.2027 09:00", "announcements.errors.when_far"),
    ],
)
def test_bad_send_times(text: str, key: str) -> None:
    with pytest.raises(AnnouncementError) as error:
        parse_send_time(text, BERLIN, NOW)
    assert error.value.key == key


def test_ambiguous_autumn_hour_is_accepted() -> None:
    moment = parse_send_time("31.10.2027 02:30", BERLIN, NOW)
    assert moment - parse_send_time("31.10.2027 01:30", BERLIN, NOW) >= timedelta(hours=1)


def test_numbers_and_durations_read_german() -> None:
    assert number(1000) == "1.000" and number(12) == "12"
    assert duration(39.6) == "40 s" and duration(125) == "2 min 5 s" and duration(120) == "2 min"
