-- Users the bot has talked to in private: nothing more than needed.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,          -- Telegram user id
    language    TEXT,                         -- Telegram's language_code, may be NULL
    first_seen  TEXT NOT NULL                 -- UTC, ISO 8601
);
