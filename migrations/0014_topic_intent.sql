-- No second forum topic after a crash: the staff chat a request's topic is being created in is recorded before
-- createForumTopic. Found again without a stored topic (the bot stopped, or the answer was lost, between creating
-- it and storing its id), the request is posted into the group itself instead of into a second, duplicate topic;
-- the first topic is adopted when staff write in it (its creation message names the request).
ALTER TABLE requests ADD COLUMN topic_intent_chat INTEGER;
