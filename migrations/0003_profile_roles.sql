-- The user's Bundesland, remembered from any feature that asks for it (Förder-Finder, requests, subscriptions).
ALTER TABLE users ADD COLUMN bundesland TEXT;

-- Roles granted by admins (admins themselves come from BOT_ADMIN_IDS).
CREATE TABLE roles (
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'staff')),
    granted_by  INTEGER NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Every grant and revocation, with who made it and when.
CREATE TABLE role_changes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
    changed_by  INTEGER NOT NULL,
    changed_at  TEXT NOT NULL,
    via         TEXT NOT NULL            -- 'user_id' or 'invitation'
);
