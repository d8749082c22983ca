-- The coordinators' monthly editor report (opt-in under /redaktion): who gets it, and which month's report was
-- last queued for them (YYYY-MM), so a restart or a second tick never sends a month twice.
CREATE TABLE editor_report_subscriptions (
    user_id          INTEGER PRIMARY KEY,
    subscribed_at    TEXT NOT NULL,
    last_sent_month  TEXT NOT NULL
);
