-- What the library adds to the brief's tables, and the adoption of tables
-- created from the brief's own DDL. Every statement is guarded by a
-- condition on the current schema, so this file runs the same way on a
-- fresh database (after 0001), on an adopted one, and again after being
-- cut short. Nothing here deletes or rewrites a row.

-- A table created long ago may have a row format whose index keys stop at
-- 767 bytes: too short for utf8mb4 keys on VARCHAR(255) columns.
-- push:if row-format sys_devices compact,redundant
ALTER TABLE `sys_devices` ROW_FORMAT=DYNAMIC;
-- push:if row-format sys_user_devices compact,redundant
ALTER TABLE `sys_user_devices` ROW_FORMAT=DYNAMIC;
-- push:if row-format sys_push_messages compact,redundant
ALTER TABLE `sys_push_messages` ROW_FORMAT=DYNAMIC;
-- push:if row-format sys_message_center compact,redundant
ALTER TABLE `sys_message_center` ROW_FORMAT=DYNAMIC;

-- The brief declares utf8, which is 3-byte in MySQL: strict mode refuses
-- emoji, other modes turn them into "?". Convert the data to utf8mb4;
-- every utf8 value is valid utf8mb4, and TEXT columns become MEDIUMTEXT
-- where they must, to keep holding as many characters.
-- push:if charset-not sys_devices utf8mb4
ALTER TABLE `sys_devices` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
-- push:if charset-not sys_user_devices utf8mb4
ALTER TABLE `sys_user_devices` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
-- push:if charset-not sys_push_messages utf8mb4
ALTER TABLE `sys_push_messages` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
-- push:if charset-not sys_message_center utf8mb4
ALTER TABLE `sys_message_center` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Identifiers compare case- and accent-sensitively, as they do on
-- PostgreSQL and SQLite: a device "ABC" is not the device "abc", and user
-- "A01" is not "a01". utf8mb4_bin is a PAD SPACE collation, so trailing
-- spaces are ignored ("a01 " equals "a01", also in the unique keys); the
-- Store drops trailing spaces from identifiers on every dialect to match.
-- The columns keep the brief's types, defaults and comments.
-- push:if collation-not sys_devices uuid utf8mb4_bin
ALTER TABLE `sys_devices`
  MODIFY `platform` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT '系统类型ios/android',
  MODIFY `uuid` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT '设备 UUID',
  MODIFY `push_device_token` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT '' COMMENT '推送 token',
  MODIFY `push_platform` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'umeng' COMMENT '消息推送商，移动端代码中会根据不同系统使用不同的推送服务商';
-- push:if collation-not sys_user_devices user_num utf8mb4_bin
ALTER TABLE `sys_user_devices`
  MODIFY `user_num` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT '用户编号';

-- A push to many devices records all their tokens (registry.MaxTokensText).
-- push:if column-type sys_push_messages ios_device_tokens tinytext,text
ALTER TABLE `sys_push_messages` MODIFY `ios_device_tokens` mediumtext COMMENT 'ios token 列表';
-- push:if column-type sys_push_messages android_device_tokens tinytext,text
ALTER TABLE `sys_push_messages` MODIFY `android_device_tokens` mediumtext COMMENT 'android token 列表';

-- sys_devices: token state; one row per (platform, uuid); tokens looked up
-- when a vendor reports them invalid.
-- push:if no-column sys_devices token_disabled_at
ALTER TABLE `sys_devices` ADD COLUMN `token_disabled_at` datetime(6) DEFAULT NULL COMMENT 'when the vendor reported the token invalid';
-- push:if no-column sys_devices token_disabled_reason
ALTER TABLE `sys_devices` ADD COLUMN `token_disabled_reason` varchar(255) DEFAULT NULL COMMENT 'the vendor''s reason';
-- push:if no-index sys_devices ux_sys_devices_platform_uuid
-- push:unique sys_devices platform,uuid
CREATE UNIQUE INDEX `ux_sys_devices_platform_uuid` ON `sys_devices` (`platform`, `uuid`);
-- push:if no-index sys_devices ix_sys_devices_push_device_token
CREATE INDEX `ix_sys_devices_push_device_token` ON `sys_devices` (`push_device_token`, `platform`);

-- sys_user_devices: a user's links, a device's links.
-- push:if no-index sys_user_devices ix_sys_user_devices_user_num_state
CREATE INDEX `ix_sys_user_devices_user_num_state` ON `sys_user_devices` (`user_num`, `state`);
-- push:if no-index sys_user_devices ix_sys_user_devices_device_id_state
CREATE INDEX `ix_sys_user_devices_device_id_state` ON `sys_user_devices` (`device_id`, `state`);

-- sys_push_messages: idempotent creation, expiry.
-- push:if no-column sys_push_messages dedupe_key
ALTER TABLE `sys_push_messages` ADD COLUMN `dedupe_key` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT 'makes creation idempotent, e.g. message_center#<id>';
-- push:if no-column sys_push_messages expire_at
ALTER TABLE `sys_push_messages` ADD COLUMN `expire_at` datetime(6) DEFAULT NULL COMMENT 'when the vendor stops trying';
-- push:if no-index sys_push_messages ux_sys_push_messages_dedupe_key
-- push:unique sys_push_messages dedupe_key
CREATE UNIQUE INDEX `ux_sys_push_messages_dedupe_key` ON `sys_push_messages` (`dedupe_key`);

-- sys_message_center: delayed sends, retries, claims. Rows other programs
-- insert leave these NULL (or 0) and are due at once.
-- push:if no-column sys_message_center send_at
ALTER TABLE `sys_message_center` ADD COLUMN `send_at` datetime(6) DEFAULT NULL COMMENT 'not before this time';
-- push:if no-column sys_message_center attempts
ALTER TABLE `sys_message_center` ADD COLUMN `attempts` int(11) NOT NULL DEFAULT 0 COMMENT 'claims so far';
-- push:if no-column sys_message_center next_attempt_at
ALTER TABLE `sys_message_center` ADD COLUMN `next_attempt_at` datetime(6) DEFAULT NULL COMMENT 'retry not before this time';
-- push:if no-column sys_message_center claim_token
ALTER TABLE `sys_message_center` ADD COLUMN `claim_token` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT 'holder of the claim';
-- push:if no-column sys_message_center lease_until
ALTER TABLE `sys_message_center` ADD COLUMN `lease_until` datetime(6) DEFAULT NULL COMMENT 'the claim ends then';
-- push:if no-index sys_message_center ix_sys_message_center_due
CREATE INDEX `ix_sys_message_center_due` ON `sys_message_center` (`send_state`, `notify_level` DESC, `id`);

-- One row per vendor call of a push message: the outbox. Its summary per
-- platform is what sys_push_messages' ios_* and android_* columns show.
CREATE TABLE IF NOT EXISTS `sys_push_deliveries` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `push_message_id` int(11) NOT NULL COMMENT 'sys_push_messages.id',
  `provider` varchar(255) NOT NULL,
  `platform` varchar(16) NOT NULL COMMENT 'ios/android',
  `seq` int(11) NOT NULL COMMENT 'chunk number within (message, provider, platform)',
  `audience` varchar(255) NOT NULL COMMENT 'tokens/broadcast',
  `tokens` mediumtext NOT NULL COMMENT 'comma-separated',
  `idempotency_key` varchar(255) NOT NULL,
  `state` varchar(16) NOT NULL COMMENT 'pending/accepted/done/failed',
  `attempts` int(11) NOT NULL DEFAULT 0,
  `next_attempt_at` datetime(6) NOT NULL,
  `expire_at` datetime(6) DEFAULT NULL,
  `receipt_id` varchar(255) DEFAULT NULL COMMENT 'vendor task id or msg id',
  `pollable` tinyint(1) NOT NULL DEFAULT 0,
  `vendor_state` varchar(255) DEFAULT NULL,
  `ret` varchar(255) DEFAULT NULL,
  `response` mediumtext COMMENT 'vendor response or error, secrets removed',
  `error_kind` varchar(255) DEFAULT NULL,
  `error_code` varchar(255) DEFAULT NULL,
  `sent_at` datetime(6) DEFAULT NULL,
  `claim_token` varchar(255) DEFAULT NULL,
  `lease_until` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL,
  `updated_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_sys_push_deliveries_idempotency_key` (`idempotency_key`),
  KEY `ix_sys_push_deliveries_due` (`state`, `next_attempt_at`),
  KEY `ix_sys_push_deliveries_push_message_id` (`push_message_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
