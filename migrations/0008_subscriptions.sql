-- Opt-in subscriptions: one row per user who was offered or chose them; nothing is on until the user says so.
CREATE TABLE subscriptions (
    user_id             INTEGER PRIMARY KEY,
    announcements       INTEGER NOT NULL DEFAULT 0 CHECK (announcements IN (0, 1)),       -- Infobrief
    event_reminders     INTEGER NOT NULL DEFAULT 0 CHECK (event_reminders IN (0, 1)),
    deadline_reminders  INTEGER NOT NULL DEFAULT 0 CHECK (deadline_reminders IN (0, 1)),
    updated_at          TEXT NOT NULL,
    ended               TEXT          -- why everything was switched off by the bot, e.g. 'blocked' (403)
);

-- Topics of interest (top-level menu node ids); none chosen means every topic.
CREATE TABLE subscription_topics (
    user_id  INTEGER NOT NULL,
    topic    TEXT NOT NULL,
    PRIMARY KEY (user_id, topic)
);

-- One-time invitation links for a role (/start rolle_<code>); only a hash of the code is kept.
CREATE TABLE role_invitations (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,   -- sha256 hex of the random code
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'staff')),
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
);

-- Announcements written by coordinators; each recipient is an outbox row with ref 'announcement:<id>'.
CREATE TABLE announcements (
    id                   INTEGER PRIMARY KEY,
    created_by           INTEGER NOT NULL,          -- the coordinator; progress and report go to this chat
    created_at           TEXT NOT NULL,
    body                 TEXT NOT NULL,             -- Telegram HTML rendered from the coordinator's entities
    button_label         TEXT,
    button_url           TEXT,
    audience             TEXT NOT NULL,             -- JSON {"laender": [...], "topics": [...]}; empty = all
    state                TEXT NOT NULL CHECK (state IN ('scheduled', 'sending', 'done', 'cancelled')),
    send_at              TEXT NOT NULL,             -- UTC; due time of a scheduled announcement
    started_at           TEXT,
    finished_at          TEXT,
    recipients           INTEGER,                   -- outbox rows written when sending started
    progress_message_id  INTEGER,
    progress_at          TEXT                       -- when the progress message was last edited
);
CREATE INDEX announcements_due ON announcements (state, send_at);
