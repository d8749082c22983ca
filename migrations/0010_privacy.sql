-- Retention: an outbox ledger (e.g. an announcement's recipients, ref 'announcement:<id>') reduced to counts.
-- The rows with chat ids and message copies are deleted; reports and /statistik read these numbers instead.
CREATE TABLE ledger_counts (
    ref         TEXT PRIMARY KEY,           -- the outbox ref the rows had
    sent        INTEGER NOT NULL,
    pending     INTEGER NOT NULL,
    blocked     INTEGER NOT NULL,           -- failed because the user blocked the bot (403)
    failed      INTEGER NOT NULL,           -- other failures
    reduced_at  TEXT NOT NULL
);
