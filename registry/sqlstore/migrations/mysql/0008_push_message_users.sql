-- The users each push was addressed to, one row per (user, push), so that
-- a user's pushes are listed newest first through one index, whatever the
-- size of the push. CreatePushMessage writes them in its transaction;
-- pushes written before this migration, or by other programs, have none.
-- user_num compares as sys_user_devices.user_num does (utf8mb4_bin, see
-- 0002); the key, 255 utf8mb4 characters and an INT, is 1024 bytes,
-- within InnoDB's 3072-byte limit under the DYNAMIC row format.
CREATE TABLE IF NOT EXISTS `sys_push_message_users` (
  `push_message_id` int(11) NOT NULL COMMENT 'sys_push_messages.id',
  `user_num` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT '用户编号',
  UNIQUE KEY `ux_sys_push_message_users_user_num` (`user_num`, `push_message_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='users of each push';
