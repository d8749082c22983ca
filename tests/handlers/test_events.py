"""Events and deadlines as users and coordinators see them: the form, the lists, following, .ics, sharing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.offline import SentMessage
from bot.roles import Role
from tests.events_support import button_data, content_copy, drain, tick
from tests.harness import ADMIN_ID, Harness, harness

BERLIN = ZoneInfo("Europe/Berlin")
COORD = 555001
USER = 777001
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def make_coordinator(h: Harness, user_id: int = COORD) -> None:
    await h.db.grant_role(user_id, Role.COORDINATOR, ADMIN_ID, h.clock.now(), "user_id")


async def event_count(h: Harness) -> int:
    row = await h.db.fetchone("SELECT COUNT(*) FROM events")
    return int(row[0])


def last(messages: list[SentMessage]) -> SentMessage:
    assert messages, "the bot did not answer"
    return messages[-1]


async def fill_form(h: Harness, user_id: int = COORD, *, title: str = "Netzwerktreffen Süd") -> SentMessage:
    """Walk /termin_neu to the preview with valid answers; return the preview message."""
    user = h.user(user_id)
    replies = await h.send(user, "/termin_neu")
    assert "Wie heißt der Termin" in last(replies).text
    assert "Wann beginnt" in last(await h.send(user, title)).text
    assert "Wann endet" in last(await h.send(user, "18.4.2027 10:00")).text
    assert "Wo findet" in last(await h.send(user, "16 Uhr")).text
    assert "Beschreibung" in last(await h.send(user, "Köln, Rathaus https://example.org/treffen")).text
    ask_land = last(await h.send(user, "Austausch & Kennenlernen <3"))
    assert "Bundesland" in ask_land.text
    ask_topic = last(await h.press(user, ask_land, "evf:land:NW"))
    assert "Thema" in ask_topic.text
    preview = last(await h.press(user, ask_topic, "evf:topic:netzwerk"))
    assert "Vorschau" in preview.text
    return preview


async def test_coordinator_creates_an_event_with_preview(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        preview = await fill_form(h)
        assert "Netzwerktreffen Süd" in preview.text
        assert "So., 18.04.2027, 10:00–16:00 Uhr" in preview.text
        assert "Austausch &amp; Kennenlernen &lt;3" in preview.text  # escaped, not parsed
        assert await event_count(h) == 0  # nothing stored before "Veröffentlichen"
        replies = await h.press_label(h.user(COORD), preview, "Veröffentlichen")
        assert any("veröffentlicht" in m.text for m in replies)
        [row] = await h.db.fetchall("SELECT * FROM events")
        assert row["title"] == "Netzwerktreffen Süd"
        assert row["starts_at"] == "2027-04-18T08:00:00+00:00"  # 10:00 CEST stored as UTC
        assert row["ends_at"] == "2027-04-18T14:00:00+00:00"
        assert row["place"] == "Köln, Rathaus" and row["online_url"] == "https://example.org/treffen"
        assert row["bundesland"] == "NW" and row["topic"] == "netzwerk" and row["created_by"] == COORD
        details = last(replies)
        assert "https://t.me/ija_lotse_bot?start=termin_1" in details.text
        assert [b["text"] for b in details.buttons() if "url" in b] == ["↗️ Teilen"]


async def test_start_with_a_range_skips_the_end_question(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        user = h.user(ADMIN_ID)  # admins may too
        await h.send(user, "/termin_neu")
        await h.send(user, "Infotag Förderung")
        assert "Wo findet" in last(await h.send(user, "18.04.27 10-16 Uhr")).text


async def test_bad_input_gets_clear_answers_and_stores_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        user = h.user(COORD)
        await h.send(user, "/termin_neu")
        for text, expected in [
            ("<b>Treffen</b>", "ohne HTML"),
            ("ab", "zu kurz"),
            ("x" * 121, "zu lang"),
        ]:
            assert expected in last(await h.send(user, text)).text
        await h.send(user, "Netzwerktreffen")
        for text, expected in [
            ("31.02.2027 10:00", "gibt es nicht"),
            ("1.1.2026 10:00", "Vergangenheit"),
            ("24.11.2026 10:30", "Vergangenheit"),  # earlier today (clock: 11:00 local)
            ("18.4.2030 10:00", "drei Jahre"),
            ("18.4.2027", "Uhrzeit"),
            ("irgendwann", "nicht als Datum"),
            ("28.3.2027 2:30", "Sommerzeit"),
            ("Sa, 18.4.2027 10:00", "Der 18.04.2027 ist ein Sonntag"),
            ("<i>18.4.2027 10:00</i>", "ohne HTML"),
        ]:
            assert expected in last(await h.send(user, text)).text, text
        await h.send(user, "18.4.2027 10:00")
        for text, expected in [
            ("9:00", "nach dem Beginn"),
            ("17.4.2027 12:00", "nach dem Beginn"),
            ("17.4. 12:00", "nach dem Beginn"),  # not 17 April 2028 ("höchstens 31 Tage")
            ("30.5.2027 12:00", "31 Tage"),
        ]:
            assert expected in last(await h.send(user, text)).text, text
        await h.send(user, "16:00")
        assert "HTML" in last(await h.send(user, "<a href='x'>hier</a>")).text
        assert "Ort oder einen Online-Link" in last(await h.send(user, "  ,  ")).text
        await h.send(user, "Bonn")
        assert "HTML" in last(await h.send(user, "Mit <script>alert(1)</script>")).text
        assert "zu lang" in last(await h.send(user, "x" * 1501)).text
        replies = await h.send(user, "/abbrechen")
        assert "nichts gespeichert" in last(replies).text
        assert await event_count(h) == 0
        # The conversation is over: free text is no longer taken as a form answer.
        await h.send(user, "Bonn")
        assert await event_count(h) == 0


async def test_non_coordinator_cannot_create_edit_or_cancel(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        preview = await fill_form(h)
        await h.press_label(h.user(COORD), preview, "Veröffentlichen")
        user = h.user(USER)
        [reply] = await h.send(user, "/termin_neu")
        assert "nur Koordinatorinnen und Koordinatoren" in reply.text
        [details] = await h.send(user, "/start termin_1")
        assert all("Bearbeiten" not in b["text"] for b in details.buttons())
        # Forged presses: refused where they happen.
        for data in ("ev:cancel:1", "ev:cancelok:1", "evf:edit:1", "evf:save"):
            await h.press(user, details, data)
            assert h.last_answer_text() is not None
        event = await h.db.get_event(1)
        assert event is not None and event.state == "active" and event.version == 1
        # A coordinator whose role was revoked mid-form is stopped at the next step.
        await make_coordinator(h, USER)
        await h.send(user, "/termin_neu")
        await h.db.revoke_role(USER, Role.COORDINATOR, ADMIN_ID, h.clock.now())
        [reply] = await h.send(user, "Ein Titel")
        assert "nur Koordinatorinnen und Koordinatoren" in reply.text
        assert await event_count(h) == 1


async def test_unfinished_form_survives_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        user = h.user(COORD)
        await h.send(user, "/termin_neu")
        await h.send(user, "Fachtag Partnersuche")
        await h.app.update_persistence()
    async with harness(tmp_path, now=NOW) as h:
        user = h.user(COORD)
        assert "Wann endet" in last(await h.send(user, "18.4.2027 10:00")).text


async def test_follow_ics_and_share(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        await h.press_label(h.user(COORD), await fill_form(h), "Veröffentlichen")
        user = h.user(USER)
        [listing] = await h.send(user, "/termine")
        assert "Netzwerktreffen Süd" in listing.text
        [details] = await h.press(user, listing, button_data(listing, "Netzwerktreffen Süd"))
        [followed] = await h.press_label(user, details, "Erinnern")
        assert "7 Tage und 1 Tag vorher" in followed.text and "09:00 Uhr" in followed.text
        assert await h.db.follows_event(1, USER)
        replies = await h.press_label(user, followed, "Kalenderdatei")
        [doc] = [m for m in replies if m.document is not None]
        name, body = doc.document or ("", b"")
        assert name == "termin-1.ics"
        cal = Calendar.from_ical(body)
        [vevent] = list(cal.walk("VEVENT"))
        start = vevent.decoded("dtstart")
        assert start == datetime(2027, 4, 18, 10, 0, tzinfo=BERLIN) and start.tzinfo is not None
        assert str(vevent.get("dtstart").params["TZID"]) == "Europe/Berlin"
        assert vevent.decoded("dtend").astimezone(BERLIN).hour == 16
        assert [tz.tz_name for tz in cal.timezones] == ["Europe/Berlin"]
        assert str(vevent.get("summary")) == "Netzwerktreffen Süd"
        [unfollowed] = await h.press_label(user, followed, "Nicht mehr erinnern")
        assert not await h.db.follows_event(1, USER)
        assert unfollowed.buttons()[0]["text"] == "🔔 Erinnern"


async def test_deep_link_for_unknown_event(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/start termin_999")
    assert reply.text == bot.texts("events.unknown_event")
    [reply] = await bot.send(bot.user(USER), "/start termin_abc")
    assert reply.text == bot.texts("events.unknown_event")
    for ident in ("²", "1" * 30):  # a digit int() cannot read; a number SQLite cannot hold
        [reply] = await bot.send(bot.user(USER), f"/start termin_{ident}")
        assert reply.text == bot.texts("events.unknown_event"), ident


async def test_menu_offers_events_and_deadlines(bot: Harness) -> None:
    user = bot.user(USER)
    menu = (await bot.send(user, "/start"))[0]
    [sub] = await bot.press(user, menu, "menu:termine")
    labels = [b["text"] for b in sub.buttons()]
    assert "📅 Termine" in labels and "⏳ Fristen" in labels and "🗓 Mein Kalender" in labels
    [listing] = await bot.press_label(user, sub, "Termine")
    assert "keine Termine" in listing.text


async def test_coordinator_edits_event_and_followers_learn_what_changed(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        await h.press_label(h.user(COORD), await fill_form(h), "Veröffentlichen")
        follower = h.user(USER)
        [details] = await h.send(follower, "/start termin_1")
        await h.press_label(follower, details, "Erinnern")
        coord = h.user(COORD)
        [details] = await h.send(coord, "/start termin_1")
        [preview] = await h.press_label(coord, details, "Bearbeiten")
        assert "noch nichts" in preview.text
        [ask] = await h.press_label(coord, preview, "Beginn")
        assert "Wann beginnt" in ask.text
        preview = last(await h.send(coord, "20.4.2027 9:30"))
        assert "Beginn, Ende" in preview.text  # the length is kept, so the end moves too
        [ask] = await h.press_label(coord, preview, "Ort/Link")
        assert "Wo findet" in ask.text
        preview = last(await h.send(coord, "Online https://example.org/neu"))
        replies = await h.press_label(coord, preview, "speichern")
        assert any("1 Person(en)" in m.text for m in replies)
        await drain(h)
        [notice] = [m for m in h.api.sent_to(USER) if "Termin geändert" in m.text]
        assert "<s>So., 18.04.2027, 10:00 Uhr</s> → Di., 20.04.2027, 09:30 Uhr" in notice.text
        assert "https://example.org/neu" in notice.text
        event = await h.db.get_event(1)
        assert event is not None and event.version == 2 and event.updated_by == COORD
        assert event.starts_at.astimezone(BERLIN) == datetime(2027, 4, 20, 9, 30, tzinfo=BERLIN)
        assert event.ends_at.astimezone(BERLIN) == datetime(2027, 4, 20, 15, 30, tzinfo=BERLIN)
        due = sorted(
            r.due_at.astimezone(BERLIN).date() for r in await h.db.reminders_of(USER) if r.state == "pending"
        )
        assert due == [date(2027, 4, 13), date(2027, 4, 19)]


async def test_coordinator_cancels_and_followers_are_told(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        await h.press_label(h.user(COORD), await fill_form(h), "Veröffentlichen")
        follower = h.user(USER)
        [details] = await h.send(follower, "/start termin_1")
        await h.press_label(follower, details, "Erinnern")
        coord = h.user(COORD)
        [details] = await h.send(coord, "/start termin_1")
        [confirm] = await h.press_label(coord, details, "Absagen")
        assert "1 Person(en)" in confirm.text
        [done] = await h.press_label(coord, confirm, "Ja, absagen")
        assert "abgesagt" in done.text
        await drain(h)
        assert any("Termin abgesagt" in m.text for m in h.api.sent_to(USER))
        [listing] = await h.send(follower, "/termine")
        assert "keine Termine" in listing.text
        # Pressing again (stale confirmation) changes nothing and tells so.
        await h.press(coord, confirm, "ev:cancelok:1")
        assert h.last_answer_text() == h.texts("events.cancel.already")


async def test_events_are_listed_for_the_users_land_and_paged(tmp_path: Path) -> None:
    seeds = [
        {
            "id": f"treffen-{i}",
            "title": f"Treffen {i}",
            "start": f"2027-0{1 + i % 9}-1{i % 9} 10:00",
            "end": f"2027-0{1 + i % 9}-1{i % 9} 12:00",
            "place": "Berlin",
            "bundesland": "BE" if i == 0 else ("BY" if i == 1 else None),
            "topic": "netzwerk",
        }
        for i in range(8)
    ]
    root = content_copy(tmp_path, seeds=seeds)
    async with harness(tmp_path, now=NOW, content_dir=root) as h:
        await tick(h)
        assert await event_count(h) == 8
        await tick(h)  # seeding is idempotent
        assert await event_count(h) == 8
        user = h.user(USER)
        await h.db.set_user_land(USER, "BE", h.clock.now())
        [page1] = await h.send(user, "/termine")
        assert "Berlin und bundesweit" in page1.text and "(Seite 1/2)" in page1.text
        assert "Treffen 0" in page1.text and "Treffen 1" not in page1.text
        [page2] = await h.press_label(user, page1, "Weiter")
        assert "(Seite 2/2)" in page2.text and page2.message_id == page1.message_id


async def test_changed_seed_updates_the_event_and_tells_followers(tmp_path: Path) -> None:
    seed = {
        "id": "kgi-2027",
        "title": "KGI-Netzwerktreffen",
        "start": "2027-05-20 10:00",
        "end": "2027-05-20 16:00",
        "place": "Bonn",
        "topic": "netzwerk",
    }
    root = content_copy(tmp_path, seeds=[seed])
    async with harness(tmp_path, now=NOW, content_dir=root) as h:
        await tick(h)
        [details] = await h.send(h.user(USER), "/start termin_1")
        await h.press_label(h.user(USER), details, "Erinnern")
    content_copy(tmp_path, seeds=[{**seed, "place": "Hamm"}])
    async with harness(tmp_path, now=NOW, content_dir=root) as h:
        await tick(h)
        assert await event_count(h) == 1
        event = await h.db.get_event(1)
        assert event is not None and event.place == "Hamm" and event.version == 2
        assert any("Termin geändert" in m.text and "Hamm" in m.text for m in h.api.sent_to(USER))


async def test_fristen_asks_the_land_stores_it_and_follows_programmes(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        user = h.user(USER)
        await h.send(user, "/start")
        [ask] = await h.send(user, "/fristen")
        assert "Bundesland" in ask.text
        [page] = await h.press_label(user, ask, "Baden-Württemberg")
        assert (await h.db.get_user(USER)).bundesland == "BW"
        assert "Förderfristen" in page.text and "Baden-Württemberg" in page.text
        assert "30.11.2026" in page.text and "(jährlich, in 6 Tagen)" in page.text
        [page] = await h.press_label(user, page, "🔔 KJP")
        assert h.last_answer_text() is not None and "8 Wochen, 2 Wochen und 3 Tage" in h.last_answer_text()
        assert await h.db.followed_programmes(USER) == {"kjp"}
        assert "✅ KJP" in [b["text"] for b in page.buttons()]
        # 30 Nov (Direktverfahren): 3 days before; 31 Dec (Zentralstellen): 2 weeks and 3 days before.
        due = [r.due_at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M") for r in await h.db.reminders_of(USER)]
        assert due == ["27.11.2026 09:00", "17.12.2026 09:00", "28.12.2026 09:00"]
        # Pages reach the BW-only date of the DPJW Länderstelle.
        texts = [page.text]
        while any("Weiter" in b["text"] for b in page.buttons()):
            [page] = await h.press_label(user, page, "Weiter")
            texts.append(page.text)
        # (not as a date in 2027: that one is not confirmed — the rule is 'secondary')
        assert any(
            "Länderstelle Baden-Württemberg – für 2027 noch kein Termin bestätigt (bisher jährlich bis 01.04.)"
            in t
            for t in texts
        )
        assert all("01.04.2027" not in t for t in texts)
        # A past round is history after the current state, never the state itself.
        assert any(
            "Kein kommender Termin veröffentlicht" in t and "Zuletzt: 01.10.2025, 12:00 Uhr" in t
            for t in texts
        )
        # Next time the stored Land is used without asking.
        [again] = await h.send(user, "/fristen")
        assert "Baden-Württemberg" in again.text and "In welchem Bundesland" not in again.text


async def test_my_calendar_holds_followed_events_and_deadlines(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        await h.press_label(h.user(COORD), await fill_form(h), "Veröffentlichen")
        user = h.user(USER)
        menu = (await h.send(user, "/start"))[0]
        [sub] = await h.press(user, menu, "menu:termine")
        [empty] = await h.press_label(user, sub, "Mein Kalender")
        assert "noch keinem Termin" in empty.text
        [details] = await h.send(user, "/start termin_1")
        await h.press_label(user, details, "Erinnern")
        await h.db.set_user_land(USER, "BW", h.clock.now())
        [page] = await h.send(user, "/fristen")
        await h.press(user, page, "dl:f:esk.0")
        replies = await h.press(user, sub, "ev:mycal")
        [doc] = [m for m in replies if m.document is not None]
        assert doc.document is not None and doc.document[0] == "ija-lotse-kalender.ics"
        cal = Calendar.from_ical(doc.document[1])
        entries = {str(e.get("summary")): e for e in cal.walk("VEVENT")}
        assert entries["Netzwerktreffen Süd"].decoded("dtstart") == datetime(
            2027, 4, 18, 10, 0, tzinfo=BERLIN
        )
        [esk] = [e for name, e in entries.items() if name.startswith("Frist ESK")]
        assert esk.decoded("dtstart") == date(2027, 10, 31)  # all-day; the seal deadline is confirmed yearly
        assert "1 Termin(en) und 1 Frist(en)" in doc.text


async def test_forged_deadline_buttons_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    menu = (await bot.send(user, "/start"))[0]
    for data in (
        "dl:f:nope.0",
        "dl:land:XX",
        "dl:list:abc",
        "dl:zzz",
        "ev:show:abc",
        "ev:follow:999",
        "evf:topic:netzwerk",
        "ev:show:" + "9" * 40,  # ids beyond SQLite's integers: a polite answer, not "etwas schiefgelaufen"
        "ev:follow:" + "9" * 30,
        "ev:list:" + "9" * 40,
        "evf:edit:" + "9" * 40,
        "dl:list:" + "9" * 40,
        "dl:f:kjp." + "9" * 40,
    ):
        await bot.press(user, menu, data)
        assert bot.last_answer_text() is not None, data
        assert bot.last_answer_text() != bot.texts("errors.generic"), data
    assert await bot.db.followed_programmes(USER) == set()
    assert (await bot.db.get_user(USER)).bundesland is None


async def test_following_too_late_for_a_reminder_says_so(tmp_path: Path) -> None:
    seed = {
        "id": "gleich",
        "title": "Gleich geht's los",
        "start": "2026-11-24 14:00",
        "end": "2026-11-24 15:00",
        "place": "Online",
        "topic": "infotag",
    }
    root = content_copy(tmp_path, seeds=[seed])
    async with harness(tmp_path, now=NOW, content_dir=root) as h:
        await tick(h)
        user = h.user(USER)
        [details] = await h.send(user, "/start termin_1")
        share = next(b["url"] for b in details.buttons() if "url" in b)
        assert share == "https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fija_lotse_bot%3Fstart%3Dtermin_1"
        await h.press_label(user, details, "Erinnern")
        assert h.last_answer_text() == h.texts("events.followed_too_late")
        assert await h.db.follows_event(1, USER) and await h.db.reminders_of(USER) == []


async def test_lost_form_answers_get_a_polite_restart_hint(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await make_coordinator(h)
        user = h.user(COORD)
        await h.send(user, "/termin_neu")
        h.app.user_data[COORD].clear()  # e.g. erased by a privacy request while the state remained
        [reply] = await h.send(user, "Ein Titel")
        assert reply.text == h.texts("events.form.stale")
        assert await event_count(h) == 0


async def test_fristen_without_land_keeps_the_choice_when_paging_and_following(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        user = h.user(USER)
        [ask] = await h.send(user, "/fristen")
        [page] = await h.press_label(user, ask, "Ohne Bundesland")
        assert "ohne Bundesland (Seite 1/" in page.text
        [page] = await h.press_label(user, page, "Weiter")
        assert "ohne Bundesland (Seite 2/" in page.text, page.text[:80]
        [page] = await h.press(user, page, button_data(page, "🔔"))
        assert "ohne Bundesland (Seite 2/" in page.text and len(await h.db.followed_programmes(USER)) == 1
        [again] = await h.send(user, "/fristen")
        assert "ohne Bundesland (Seite 1/" in again.text
        assert (await h.db.get_user(USER)).bundesland is None
        [chooser] = await h.press_label(user, again, "Bundesland")
        [page] = await h.press_label(user, chooser, "Baden-Württemberg")
        assert "Baden-Württemberg (Seite 1/" in page.text
        [page] = await h.press_label(user, page, "Weiter")
        assert "Baden-Württemberg (Seite 2/" in page.text


async def test_fristen_in_december_2026_shows_no_past_round_as_the_latest_state(tmp_path: Path) -> None:
    """Over the real content: every rule's first line after its title is its current state — an upcoming
    confirmed date, an expected round, or that there is none (and why); a past date is at most history."""
    december = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    today = december.astimezone(ZoneInfo("Europe/Berlin")).date()
    state_marks = ("⏳ ", "🗓 ", "⛔ ", "❔ ")
    async with harness(tmp_path, now=december) as h:
        for number, land in enumerate(("BW", "NW", "HE", None)):
            user_id = USER + 1 + number
            user = h.user(user_id)
            if land is not None:
                await h.db.set_user_land(user_id, land, h.clock.now())
                [page] = await h.send(user, "/fristen")
            else:
                [ask] = await h.send(user, "/fristen")
                [page] = await h.press(user, ask, "dl:land:none")
            pages = [page.text]
            while any("Weiter" in b["text"] for b in page.buttons()):
                [page] = await h.press_label(user, page, "Weiter")
                pages.append(page.text)
            items = [item for text in pages for item in text.split("\n\n")[1:]]
            assert items, land
            for item in items:
                lines = item.split("\n")
                state = lines[1]
                assert state.startswith(state_marks), (land, item)
                if state.startswith("⏳ "):
                    shown = datetime.strptime(state[2:12], "%d.%m.%Y").date()
                    assert shown >= today, (land, item)
                else:
                    assert not re.search(r"\d\d\.\d\d\.\d{4}", state), (land, item)
                history = [i for i, line in enumerate(lines) if line.startswith("🕘 Zuletzt")]
                assert all(i > 1 for i in history), (land, item)
