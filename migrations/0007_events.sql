-- Events (network meetings, workshops, info days): created by coordinators in the chat or seeded from
-- content/events.yaml. Times are UTC ISO text; they are shown and scheduled in BOT_TIMEZONE.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    seed_id      TEXT UNIQUE,                 -- stable id from content/events.yaml; NULL for events made in chat
    seed_hash    TEXT,                        -- hash of the seed entry last applied (a changed file updates it)
    title        TEXT NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    place        TEXT,                        -- place, or NULL when online only
    online_url   TEXT,                        -- http(s) link, or NULL
    description  TEXT NOT NULL DEFAULT '',
    bundesland   TEXT,                        -- Land code, NULL = nationwide
    topic        TEXT NOT NULL,               -- topic id from content/events.yaml
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cancelled')),
    version      INTEGER NOT NULL DEFAULT 1,  -- +1 on every change (the .ics SEQUENCE)
    created_by   INTEGER,                     -- Telegram user id of the coordinator; NULL for seeded events
    updated_by   INTEGER,                     -- Telegram user id of the last editor
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX events_upcoming ON events (state, ends_at);

-- Who wants reminders for which event.
CREATE TABLE event_follows (
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_follows_user ON event_follows (user_id);

-- Who wants reminders for which funding programme's deadlines (programme ids from content/deadlines.yaml).
CREATE TABLE deadline_follows (
    programme   TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (programme, user_id)
);
CREATE INDEX deadline_follows_user ON deadline_follows (user_id);

-- One row per (user, thing, occurrence, lead time): written when the reminder is planned, marked done in the
-- same transaction that writes its outbox row, so each is delivered once across restarts.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    subject     TEXT NOT NULL,               -- 'event:12' or 'deadline:<rule id>'
    target_at   TEXT NOT NULL,               -- UTC: the event start or the deadline it is about
    lead_days   INTEGER NOT NULL,            -- days before the target's local date
    due_at      TEXT NOT NULL,               -- UTC: when to send (send time local on that day)
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'dropped', 'skipped')),
    outbox_id   INTEGER,                     -- the outbox row that carries it, once sent
    created_at  TEXT NOT NULL,
    done_at     TEXT,
    UNIQUE (user_id, subject, target_at, lead_days)
);
CREATE INDEX reminders_due ON reminders (state, due_at);
CREATE INDEX reminders_subject ON reminders (subject, state);
