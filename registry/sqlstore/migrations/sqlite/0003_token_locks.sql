-- One row per push token ever registered, keyed by a hash of (push
-- platform, platform, token). RegisterDevice writes the row of the token
-- it registers before it touches a device, as it does on the other
-- dialects, where that row is a lock; on SQLite the write lock of the
-- transaction already makes registrations take turns. The rows hold no
-- data.
CREATE TABLE IF NOT EXISTS sys_push_token_locks (
  token_key char(64) PRIMARY KEY
);
