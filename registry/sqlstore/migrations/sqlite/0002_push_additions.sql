-- What the library adds to the brief's tables. SQLite has no ADD COLUMN
-- IF NOT EXISTS, hence the conditions; tables created before the library
-- are adopted. SQLite stores UTF-8 of any width and compares text byte
-- for byte: nothing to convert.

-- push:if no-column sys_devices token_disabled_at
ALTER TABLE sys_devices ADD COLUMN token_disabled_at datetime DEFAULT NULL;
-- push:if no-column sys_devices token_disabled_reason
ALTER TABLE sys_devices ADD COLUMN token_disabled_reason varchar(255) DEFAULT NULL;
-- push:if no-index sys_devices ux_sys_devices_platform_uuid
-- push:unique sys_devices platform,uuid
CREATE UNIQUE INDEX IF NOT EXISTS ux_sys_devices_platform_uuid ON sys_devices (platform, uuid);
CREATE INDEX IF NOT EXISTS ix_sys_devices_push_device_token ON sys_devices (push_device_token, platform);

CREATE INDEX IF NOT EXISTS ix_sys_user_devices_user_num_state ON sys_user_devices (user_num, state);
CREATE INDEX IF NOT EXISTS ix_sys_user_devices_device_id_state ON sys_user_devices (device_id, state);

-- push:if no-column sys_push_messages dedupe_key
ALTER TABLE sys_push_messages ADD COLUMN dedupe_key varchar(255) DEFAULT NULL;
-- push:if no-column sys_push_messages expire_at
ALTER TABLE sys_push_messages ADD COLUMN expire_at datetime DEFAULT NULL;
-- push:if no-index sys_push_messages ux_sys_push_messages_dedupe_key
-- push:unique sys_push_messages dedupe_key
CREATE UNIQUE INDEX IF NOT EXISTS ux_sys_push_messages_dedupe_key ON sys_push_messages (dedupe_key);

-- push:if no-column sys_message_center send_at
ALTER TABLE sys_message_center ADD COLUMN send_at datetime DEFAULT NULL;
-- push:if no-column sys_message_center attempts
ALTER TABLE sys_message_center ADD COLUMN attempts integer NOT NULL DEFAULT 0;
-- push:if no-column sys_message_center next_attempt_at
ALTER TABLE sys_message_center ADD COLUMN next_attempt_at datetime DEFAULT NULL;
-- push:if no-column sys_message_center claim_token
ALTER TABLE sys_message_center ADD COLUMN claim_token varchar(64) DEFAULT NULL;
-- push:if no-column sys_message_center lease_until
ALTER TABLE sys_message_center ADD COLUMN lease_until datetime DEFAULT NULL;
CREATE INDEX IF NOT EXISTS ix_sys_message_center_due ON sys_message_center (send_state, notify_level DESC, id);

-- One row per vendor call of a push message: the outbox.
CREATE TABLE IF NOT EXISTS sys_push_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  push_message_id integer NOT NULL,
  provider varchar(255) NOT NULL,
  platform varchar(16) NOT NULL,
  seq integer NOT NULL,
  audience varchar(255) NOT NULL,
  tokens text NOT NULL,
  idempotency_key varchar(255) NOT NULL,
  state varchar(16) NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at datetime NOT NULL,
  expire_at datetime DEFAULT NULL,
  receipt_id varchar(255) DEFAULT NULL,
  pollable tinyint(1) NOT NULL DEFAULT 0,
  vendor_state varchar(255) DEFAULT NULL,
  ret varchar(255) DEFAULT NULL,
  response text,
  error_kind varchar(255) DEFAULT NULL,
  error_code varchar(255) DEFAULT NULL,
  sent_at datetime DEFAULT NULL,
  claim_token varchar(255) DEFAULT NULL,
  lease_until datetime DEFAULT NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_sys_push_deliveries_idempotency_key ON sys_push_deliveries (idempotency_key);
CREATE INDEX IF NOT EXISTS ix_sys_push_deliveries_due ON sys_push_deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS ix_sys_push_deliveries_push_message_id ON sys_push_deliveries (push_message_id);
