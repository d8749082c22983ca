"""Announcement rules: the coordinator's formatting made safe, length, link button, German send times."""

from __future__ import annotations

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
from bot.content import Texts, check_telegram_html, load_content, visible_length

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts() -> Texts:
    return load_content(ROOT / "content").texts


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


def test_partial_overlap_is_dropped_not_broken() -> None:
    html = entities_to_html("abcdef", [entity(MessageEntity.BOLD, 0, 4), entity(MessageEntity.ITALIC, 2, 4)])
    assert html == "<b>abcd</b>ef"
    check_telegram_html(html)


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
