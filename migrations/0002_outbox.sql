-- Durable delivery: every message that must not be lost is a row here before anything is sent.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,               -- what it is, selects the deliverer and hooks (e.g. 'staff_request')
    ref          TEXT,                        -- what it belongs to, e.g. 'request:12' or 'announcement:3'
    chat_id      INTEGER NOT NULL,
    payload      TEXT NOT NULL,               -- JSON: text, reply_markup, message_thread_id, …
    priority     INTEGER NOT NULL DEFAULT 0,  -- lower first: replies and staff notices before announcements
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,               -- UTC; the row is due from then on (retries move it)
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    message_id   INTEGER,
    error        TEXT                         -- last error class and Telegram's description, never message text
);
CREATE INDEX outbox_due ON outbox (state, priority, not_before);
CREATE INDEX outbox_ref ON outbox (ref);
