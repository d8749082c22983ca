-- Durable intake: every update Telegram delivers is a row here before Telegram is told it arrived (polling: the
-- next getUpdates offset; webhook: the HTTP answer). Handled rows keep only their id (to recognise a redelivery)
-- and are purged after a day; rows a crash interrupted are handled again after the restart; an update that
-- cannot be parsed or keeps failing is set aside for inspection instead of stopping everything.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT,                        -- the update as Telegram sent it (JSON); NULL once handled
    kind         TEXT NOT NULL,               -- 'message', 'callback_query', … (for the operator, no content)
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'set_aside')),
    attempts     INTEGER NOT NULL DEFAULT 0,  -- starts that found it still pending (a crash during it)
    reason       TEXT,                        -- why it was set aside (error class, never content)
    received_at  TEXT NOT NULL,
    done_at      TEXT
);
CREATE INDEX inbox_state ON inbox (state, update_id);
