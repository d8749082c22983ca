-- Standortbestimmung: each completed self-check, so /standort can show the last one and the progress since.
CREATE TABLE standort_results (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,   -- Telegram user id of who answered
    created_at    TEXT NOT NULL,      -- UTC, ISO 8601
    kommune       TEXT NOT NULL,      -- the Kommune's name as typed (validated; escaped when shown)
    kommune_type  TEXT NOT NULL,      -- 'stadt', 'landkreis', 'gemeinde' (content/standort.yaml)
    bundesland    TEXT NOT NULL,      -- Land code, e.g. 'NW'
    answers       TEXT NOT NULL,      -- JSON object: question id → 'yes' | 'partly' | 'no'
    stage         INTEGER NOT NULL,   -- the stage shown at the time
    score         INTEGER NOT NULL
);
CREATE INDEX standort_results_user ON standort_results (user_id, id);
