"""The rules of consultation requests as plain functions: validation, limits, status changes, rendering, storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database, NewRequest, RequestRow
from bot.requests.rules import (
    Change,
    InvalidInput,
    Refusal,
    clean_email,
    clean_kommune,
    clean_phone,
    clean_question,
    find_land,
    fit_utf16,
    limit_problem,
    local_day_start,
    plan_claim,
    plan_staff_reply,
    plan_status,
    utf16_length,
)
from bot.requests.services import (
    AlreadySubmitted,
    Limited,
    RelayIndex,
    Submitted,
    apply_change,
    remind_unclaimed,
    submit_request,
)
from bot.requests.views import staff_post_text, topic_name
from bot.telegram_html import check_telegram_html, visible_length
from tests.content_cache import cached_content

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
CONTENT = cached_content()
TEXTS = CONTENT.texts


@pytest.mark.parametrize(
    "value",
    [
        "anna@musterstadt.de",
        "a.b-c+d@sub.landkreis-beispiel.de",
        "  jugendpflege@gemeinde.bayern  ",
        "info@müllerstadt.de",
        "mailto:kontakt@stadt.de",
        "x@xn--mnchen-3ya.de",
    ],
)
def test_valid_emails(value: str) -> None:
    assert clean_email(value) == value.strip().removeprefix("mailto:")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "anna",
        "anna@",
        "@musterstadt.de",
        "anna@musterstadt",
        "anna@musterstadt.d",
        "anna@@musterstadt.de",
        "an na@musterstadt.de",
        "anna.@musterstadt.de",
        ".anna@musterstadt.de",
        "an..na@musterstadt.de",
        "anna@-musterstadt.de",
        "anna@musterstadt..de",
        "<b>@musterstadt.de",
        "anna@musterstadt.de<script>",
        "a" * 65 + "@musterstadt.de",
        "anna@" + "a" * 250 + ".de",
    ],
)
def test_invalid_emails(value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_email(value)
    assert exc.value.key == "requests.invalid.email"


@pytest.mark.parametrize(
    "value",
    [
        "030 1234567",
        "030/1234567",
        "0151 12345678",
        "0151-123 456 78",
        "+49 30 1234567",
        "+49 (0)30 1234567",
        "+49 (0) 30 123456",
        "0049 30 1234567",
        "(0221) 123456",
        "+43 1 5880",
        "+33 1 23 45 67 89",
        "089.123456",
    ],
)
def test_valid_phone_numbers(value: str) -> None:
    assert clean_phone(value) == " ".join(value.split())


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345",
        "1234567",  # no area code
        "030 12a4567",
        "+49 0 30 1234567",
        "+490301234567",
        "++49 30 1234567",
        "49+ 30 1234567",
        "0049",
        "030--//1234567",
        "(030 1234567",
        "+49 30 1234567 1234567 12",
        "telefon: 030 1234567",
    ],
)
def test_invalid_phone_numbers(value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_phone(value)
    assert exc.value.key == "requests.invalid.phone"


def test_kommune_and_question_bounds() -> None:
    assert clean_kommune("  Stadt   Musterstadt ") == "Stadt Musterstadt"
    for bad in ("", "a", "12345", "  "):
        with pytest.raises(InvalidInput):
            clean_kommune(bad)
    with pytest.raises(InvalidInput) as exc:
        clean_kommune("x" * 121)
    assert exc.value.key == "requests.invalid.kommune_long"
    assert clean_question("  " + "x" * 10 + "  ") == "x" * 10
    assert clean_question("x" * 2000) == "x" * 2000
    for bad, key in (
        ("x" * 9, "question_short"),
        ("x" * 2001, "question_long"),
        (" " * 30, "question_short"),
    ):
        with pytest.raises(InvalidInput) as exc:
            clean_question(bad)
        assert exc.value.key == f"requests.invalid.{key}"


def test_land_names_and_codes_are_understood() -> None:
    laender = {land.code: land.name for land in CONTENT.servicepoints.laender}
    assert find_land("Bayern", laender) == "BY"
    assert find_land("baden-württemberg", laender) == "BW"
    assert find_land("NRW", laender) == "NW"
    assert find_land("sh", laender) == "SH"
    assert find_land("Mecklenburg Vorpommern", laender) == "MV"
    assert find_land("Atlantis", laender) is None
    assert find_land("", laender) is None


def test_limits_and_the_local_day() -> None:
    assert limit_problem(2, 4) is None
    assert limit_problem(3, 0) == "requests.limits.open"
    assert limit_problem(0, 5) == "requests.limits.daily"
    # The day starts at local midnight, also on the day the clocks go forward.
    assert local_day_start(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), BERLIN) == datetime(
        2026, 3, 28, 23, 0, tzinfo=UTC
    )
    assert local_day_start(datetime(2026, 11, 24, 23, 30, tzinfo=UTC), BERLIN) == datetime(
        2026, 11, 24, 23, 0, tzinfo=UTC
    )


def request(**changes: object) -> RequestRow:
    base = RequestRow(
        id=12,
        user_id=1,
        requester_name="Anna",
        form_token="1:abc",
        kommune="Stadt Musterstadt",
        bundesland="NI",
        role="jugendamt",
        topic="foerderung",
        question="Eine Frage, lang genug.",
        contact_kind="telegram",
        contact_value=None,
        privacy_ack_at=NOW,
        status="neu",
        claimed_by=None,
        claimed_by_name=None,
        created_at=NOW,
        updated_at=NOW,
        closed_at=None,
        staff_alert_at=NOW,
        staff_chat_id=None,
        staff_thread_id=None,
        staff_message_id=None,
        rating=None,
        rated_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_status_rules() -> None:
    assert plan_claim(request(), 7, "Sabine") == Change("in_bearbeitung", 7, "Sabine", True, False)
    waiting = request(status="wartet", claimed_by=None)
    assert plan_claim(waiting, 7, "Sabine") == Change("wartet", 7, "Sabine", False, False)
    taken = request(status="in_bearbeitung", claimed_by=8, claimed_by_name="Rita")
    assert isinstance(plan_claim(taken, 7, "Sabine"), Refusal)
    assert plan_claim(taken, 8, "Rita") == Refusal("requests.staff.already_yours", {"number": 12})
    assert isinstance(plan_claim(request(status="erledigt"), 7, "S"), Refusal)
    # Status changes keep the claim; "neu" releases it; closing asks for a rating once.
    assert plan_status(taken, "wartet", 7, "Sabine") == Change("wartet", 8, "Rita", True, False)
    assert plan_status(taken, "neu", 7, "Sabine") == Change("neu", None, None, True, False)
    assert plan_status(request(), "erledigt", 7, "Sabine") == Change("erledigt", 7, "Sabine", True, True)
    rated = request(status="wartet", rating=4)
    assert plan_status(rated, "erledigt", 7, "S") == Change("erledigt", 7, "S", True, False)
    assert isinstance(plan_status(taken, "in_bearbeitung", 7, "S"), Refusal)
    assert isinstance(plan_status(taken, "gibtsnicht", 7, "S"), Refusal)
    # A staff answer takes a new request, keeps others as they are, and is refused on a closed one.
    assert plan_staff_reply(request(), 7, "S") == Change("in_bearbeitung", 7, "S", True, False)
    assert plan_staff_reply(taken, 7, "S") is None
    assert isinstance(plan_staff_reply(request(status="erledigt"), 7, "S"), Refusal)


def test_the_largest_request_fits_one_telegram_message_and_is_valid_html() -> None:
    evil = '<b>&"' + "ä" * 10
    req = request(
        kommune=(evil * 20)[:120],
        question=(evil * 300)[:2000],
        requester_name=("<Name>" * 30)[:140],
        contact_kind="email",
        contact_value=("a" * 64) + "@" + ("b" * 185) + ".de",
        claimed_by_name="<i>" * 40,
        rating=5,
        staff_thread_id=99,
    )
    text = staff_post_text(TEXTS, CONTENT, req, BERLIN)
    check_telegram_html(text)
    assert visible_length(text) <= 4096
    assert len(topic_name(TEXTS, req)) <= 128
    # The topic name is plain text: shown as typed, not as HTML entities.
    assert '<b>&"' in topic_name(TEXTS, req) and "&amp;" not in topic_name(TEXTS, req)


def test_lengths_count_as_telegram_does() -> None:
    """Telegram counts UTF-16 code units: an emoji is two. Questions, topic names and alerts are measured so."""
    assert clean_question("🙂" * 1000) == "🙂" * 1000
    with pytest.raises(InvalidInput) as exc:
        clean_question("🙂" * 1001)
    assert exc.value.params["length"] == 2002
    assert fit_utf16("kurz", 128) == "kurz"
    cut = fit_utf16("Gemeinde " + "🏰" * 200, 128)
    assert utf16_length(cut) <= 128 and cut.endswith("🏰…")
    assert fit_utf16("ab" + "🙂" * 3, 5) == "ab🙂…"  # never half an emoji
    # The largest request in emoji still fits: one staff message, a topic name Telegram accepts.
    req = request(
        kommune="Stadt " + "🏰" * 114,
        question="🙂" * 1000,
        requester_name="🙂" * 64 + " " + "🙂" * 64 + " (@" + "a" * 32 + ")",
        contact_kind="email",
        contact_value=("a" * 64) + "@" + ("b" * 185) + ".de",
        claimed_by_name="🙂" * 129,
        rating=5,
        staff_thread_id=99,
    )
    assert visible_length(staff_post_text(TEXTS, CONTENT, req, BERLIN)) <= 4096
    assert utf16_length(topic_name(TEXTS, replace(req, status="erledigt"))) <= 128


def new_request(token: str, user_id: int = 1) -> NewRequest:
    return NewRequest(
        user_id=user_id,
        requester_name="Anna",
        form_token=token,
        kommune="Stadt Musterstadt",
        bundesland="NI",
        role="jugendamt",
        topic="foerderung",
        question="Eine Frage, lang genug.",
        contact_kind="telegram",
        contact_value=None,
        privacy_ack_at=NOW,
    )


async def test_submit_is_idempotent_per_form_and_writes_the_staff_post_with_it(db: Database) -> None:
    first = await submit_request(db, new_request("1:a"), NOW, BERLIN, -100)
    again = await submit_request(db, new_request("1:a"), NOW, BERLIN, -100)
    assert first == Submitted(1) and again == AlreadySubmitted(1)
    [row] = await db.outbox_by_ref("request:1")
    assert row.kind == "request_post" and row.payload == {"request_id": 1}
    # Without a staff chat: stored, nothing to post.
    assert await submit_request(db, new_request("1:b"), NOW, BERLIN, None) == Submitted(2)
    assert await db.outbox_by_ref("request:2") == []


async def test_submit_enforces_the_limits_inside_the_transaction(db: Database) -> None:
    for n in range(3):
        assert isinstance(await submit_request(db, new_request(f"1:{n}"), NOW, BERLIN, None), Submitted)
    assert await submit_request(db, new_request("1:x"), NOW, BERLIN, None) == Limited("requests.limits.open")
    assert isinstance(await submit_request(db, new_request("2:x", user_id=2), NOW, BERLIN, None), Submitted)
    for n in range(3):
        req = await db.get_request(n + 1)
        assert req is not None
        await apply_change(
            db, TEXTS, req, Change("erledigt", 7, "S", False, False), by=7, now=NOW, action="status"
        )
    for n in range(2):
        assert isinstance(await submit_request(db, new_request(f"1:d{n}"), NOW, BERLIN, None), Submitted)
    assert await submit_request(db, new_request("1:y"), NOW, BERLIN, None) == Limited("requests.limits.daily")
    tomorrow = NOW + timedelta(days=1)
    assert isinstance(await submit_request(db, new_request("1:z"), tomorrow, BERLIN, None), Submitted)


async def test_changes_are_compare_and_set(db: Database) -> None:
    await submit_request(db, new_request("1:a"), NOW, BERLIN, None)
    before = await db.get_request(1)
    assert before is not None
    claim = Change("in_bearbeitung", 7, "Sabine", True, False)
    updated = await apply_change(db, TEXTS, before, claim, by=7, now=NOW, action="claimed")
    assert updated is not None and updated.claimed_by == 7
    # A second change from the same (now stale) reading is refused: someone was faster.
    other = Change("in_bearbeitung", 8, "Rita", True, False)
    assert await apply_change(db, TEXTS, before, other, by=8, now=NOW, action="claimed") is None
    notices = [r for r in await db.outbox_by_ref("request:1") if r.kind == "request_user"]
    assert len(notices) == 1 and "in Bearbeitung" in notices[0].payload["text"]


async def test_reminders_are_due_once_per_period(db: Database) -> None:
    await submit_request(db, new_request("1:a"), NOW, BERLIN, -100)
    assert (
        await remind_unclaimed(db, TEXTS, now=NOW + timedelta(hours=23), hours=24, staff_chat_id=-100) == []
    )
    later = NOW + timedelta(hours=24)
    assert await remind_unclaimed(db, TEXTS, now=later, hours=24, staff_chat_id=-100) == [1]
    assert (
        await remind_unclaimed(db, TEXTS, now=later + timedelta(minutes=1), hours=24, staff_chat_id=-100)
        == []
    )
    assert await remind_unclaimed(
        db, TEXTS, now=later + timedelta(hours=24), hours=24, staff_chat_id=-100
    ) == [1]
    notes = [r for r in await db.outbox_by_ref("request:1") if r.kind == "request_note"]
    assert len(notes) == 2


async def test_relay_index_follows_the_database(db: Database) -> None:
    await submit_request(db, new_request("1:a"), NOW, BERLIN, None)
    await submit_request(db, new_request("1:b"), NOW, BERLIN, None)
    index = RelayIndex()
    await index.load(db)
    assert index.loaded and index.single(1) is None  # new requests are not in dialogue
    first = await db.get_request(1)
    assert first is not None
    await apply_change(
        db, TEXTS, first, Change("in_bearbeitung", 7, "S", True, False), by=7, now=NOW, action="s"
    )
    await index.refresh(db, 1)
    assert index.single(1) == 1
    second = await db.get_request(2)
    assert second is not None
    await apply_change(db, TEXTS, second, Change("wartet", 7, "S", True, False), by=7, now=NOW, action="s")
    await index.load(db)
    assert index.single(1) is None  # two in dialogue: ambiguous


async def test_user_id_columns_are_named_for_the_privacy_feature(db: Database) -> None:
    columns = {
        table: [str(r["name"]) for r in await db.fetchall(f"PRAGMA table_info({table})")]
        for table in ("requests", "request_messages", "request_history")
    }
    assert "user_id" in columns["requests"] and "claimed_by" in columns["requests"]
    assert "changed_by" in columns["request_history"]
    # No other column holds a user id under another name.
    suspicious = [c for cols in columns.values() for c in cols if "user" in c and c != "user_id"]
    assert suspicious == []


async def test_the_daily_limit_follows_the_berlin_day_not_the_utc_day(db: Database) -> None:
    async def file_closed(token: str, at: datetime) -> object:
        result = await submit_request(db, new_request(token), at, BERLIN, None)
        if isinstance(result, Submitted):
            req = await db.get_request(result.request_id)
            assert req is not None
            await apply_change(
                db, TEXTS, req, Change("erledigt", 7, "S", False, False), by=7, now=at, action="x"
            )
        return result

    # 00:05 in Berlin on 25 November is still 24 November in UTC.
    just_after_midnight = datetime(2026, 11, 24, 23, 5, tzinfo=UTC)
    for n in range(5):
        assert isinstance(await file_closed(f"1:a{n}", just_after_midnight), Submitted)
    # 23:50 in Berlin the same local day (a different UTC day): still the same day, refused.
    late_evening = datetime(2026, 11, 25, 22, 50, tzinfo=UTC)
    assert await file_closed("1:b", late_evening) == Limited("requests.limits.daily")
    # 00:01 in Berlin on 26 November (still 25 November in UTC): a new day.
    assert isinstance(await file_closed("1:c", datetime(2026, 11, 25, 23, 1, tzinfo=UTC)), Submitted)
    # In summer Berlin is two hours ahead: 23:59 on 1 July counts for 1 July, 00:30 and 00:40 for 2 July.
    for n in range(4):
        assert isinstance(await file_closed(f"1:s{n}", datetime(2027, 7, 1, 22, 30, tzinfo=UTC)), Submitted)
    assert isinstance(await file_closed("1:s4", datetime(2027, 7, 1, 21, 59, tzinfo=UTC)), Submitted)
    assert isinstance(await file_closed("1:s5", datetime(2027, 7, 1, 22, 40, tzinfo=UTC)), Submitted)
    assert await file_closed("1:s6", datetime(2027, 7, 1, 22, 50, tzinfo=UTC)) == Limited(
        "requests.limits.daily"
    )
