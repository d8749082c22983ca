-- Consultation requests: the answers of the form, where the request lives in the staff group, and its status.
CREATE TABLE requests (
    id                INTEGER PRIMARY KEY,        -- the request number users and staff see (#12)
    user_id           INTEGER NOT NULL,           -- Telegram user id of the requester
    requester_name    TEXT NOT NULL,              -- Telegram display name at submission, shown to the staff
    form_token        TEXT NOT NULL UNIQUE,       -- one request per filled-in form, even if "Absenden" comes twice
    kommune           TEXT NOT NULL,
    bundesland        TEXT NOT NULL,              -- Land code, e.g. 'NI'
    role              TEXT NOT NULL,              -- role code of the requester, e.g. 'jugendamt'
    topic             TEXT NOT NULL,              -- menu node id or 'sonstiges'
    question          TEXT NOT NULL,
    contact_kind      TEXT NOT NULL CHECK (contact_kind IN ('telegram', 'email', 'phone')),
    contact_value     TEXT,                       -- e-mail address or phone number; NULL for Telegram
    privacy_ack_at    TEXT NOT NULL,              -- when the privacy notice was acknowledged (UTC)
    status            TEXT NOT NULL DEFAULT 'neu'
                      CHECK (status IN ('neu', 'in_bearbeitung', 'wartet', 'erledigt')),
    claimed_by        INTEGER,                    -- Telegram user id of the staff member who has it
    claimed_by_name   TEXT,                       -- their display name, for /offen
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT,
    staff_alert_at    TEXT NOT NULL,              -- last time the staff were told it is unclaimed (post, reminder)
    staff_chat_id     INTEGER,                    -- the staff chat it was posted to
    staff_thread_id   INTEGER,                    -- its forum topic; stored before posting into it
    staff_message_id  INTEGER,                    -- the request message in the staff chat
    rating            INTEGER CHECK (rating BETWEEN 1 AND 5),
    rated_at          TEXT
);
CREATE INDEX requests_by_user ON requests (user_id, created_at);
CREATE INDEX requests_by_status ON requests (status, created_at);
CREATE INDEX requests_by_thread ON requests (staff_chat_id, staff_thread_id);

-- Bot messages in the staff chat that belong to a request: a staff reply to any of them reaches the requester.
CREATE TABLE request_messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);

-- Who changed what and when (submitted, claimed, status changes, relays, rating): the request's audit trail.
CREATE TABLE request_history (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    action      TEXT NOT NULL,                -- 'submitted', 'status', 'claimed', 'to_user', 'to_staff', 'rated'
    status      TEXT,                         -- the status after the action
    changed_by  INTEGER,                      -- Telegram user id of who acted (requester or staff)
    created_at  TEXT NOT NULL
);
CREATE INDEX request_history_by_request ON request_history (request_id, id);
