-- PTB persistence in SQLite (not a pickle file): the state of every guided conversation and the form data
-- entered so far, so a restart continues where the user was.
CREATE TABLE conversations (
    name   TEXT NOT NULL,     -- the ConversationHandler's name
    key    TEXT NOT NULL,     -- JSON of PTB's key tuple, e.g. [chat_id, user_id]
    state  TEXT NOT NULL,     -- JSON of the state
    PRIMARY KEY (name, key)
);

CREATE TABLE user_data (
    user_id  INTEGER PRIMARY KEY,
    data     TEXT NOT NULL    -- JSON object: answers of unfinished forms
);
