-- A token another program wrote with spaces around it (" T") is the
-- phone's token T: the Service sends it trimmed. The Store compares tokens
-- trimmed too (the listing's newer holder, the census, the takeover,
-- disablements and receipts), so that a device row holding " T" and a
-- newer one holding "T" are seen as one phone, and the older row's user is
-- not shown the newer one's pushes. MySQL and MariaDB ignore trailing
-- spaces already (PAD SPACE) but not leading ones, and index no
-- expression: a virtual column holds the trimmed token, and its index
-- finds the holders. It takes no space in the table's rows.
-- push:if no-column sys_devices push_token_key
ALTER TABLE `sys_devices` ADD COLUMN `push_token_key` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
  GENERATED ALWAYS AS (TRIM(`push_device_token`)) VIRTUAL COMMENT 'push_device_token without surrounding spaces (written by the database)';
-- push:if no-index sys_devices ix_sys_devices_push_token_key
CREATE INDEX `ix_sys_devices_push_token_key` ON `sys_devices` (`push_token_key`);
