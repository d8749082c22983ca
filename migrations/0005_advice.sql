-- One helpful / not helpful rating per user and article shown as an answer.
CREATE TABLE advice_ratings (
    user_id     INTEGER NOT NULL,
    article_id  TEXT NOT NULL,
    helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    rated_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, article_id)
);

-- Free-text questions the search could not answer well, for the editors. Deliberately without any user id.
CREATE TABLE advice_misses (
    id          INTEGER PRIMARY KEY,
    question    TEXT NOT NULL,            -- trimmed, at most 500 characters
    best_id     TEXT,                     -- the closest article, if any
    best_score  REAL,
    created_at  TEXT NOT NULL
);
CREATE INDEX advice_misses_created ON advice_misses (created_at);
