-- Erasure reaches the unanswered questions a user asked without storing who asked: each miss keeps a keyed
-- hash (HMAC-SHA256 with a per-database secret) of the asker's id, which only /loeschen, knowing the id, can
-- match. The secret lives in this database (and its backups), never in logs or exports.
CREATE TABLE db_secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
INSERT INTO db_secrets (name, value) VALUES ('miss_asker', randomblob(32));
ALTER TABLE advice_misses ADD COLUMN asker_hash TEXT;  -- HMAC of the asker's Telegram id; NULL for old rows
CREATE INDEX advice_misses_asker ON advice_misses (asker_hash);
