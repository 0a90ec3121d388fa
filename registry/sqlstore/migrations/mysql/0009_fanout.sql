-- A large push's deliveries are recorded in stages while its audience is
-- listed (registry.Fanouts): fanout_after is the last user, in byte order,
-- whose deliveries are recorded ('' for none), and fanout_claim and
-- fanout_until the claim of the instance listing the rest. All three are
-- NULL once every delivery is recorded, and for every other push.
-- push:if no-column sys_push_messages fanout_after
ALTER TABLE `sys_push_messages` ADD COLUMN `fanout_after` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT 'users up to this one are recorded';
-- push:if no-column sys_push_messages fanout_claim
ALTER TABLE `sys_push_messages` ADD COLUMN `fanout_claim` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT 'holder of the fanout claim';
-- push:if no-column sys_push_messages fanout_until
ALTER TABLE `sys_push_messages` ADD COLUMN `fanout_until` datetime(6) DEFAULT NULL COMMENT 'the fanout claim ends then';
-- push:if no-index sys_push_messages ix_sys_push_messages_fanout_until
CREATE INDEX `ix_sys_push_messages_fanout_until` ON `sys_push_messages` (`fanout_until`);
-- The users of one push, for the instance that goes on with its fanout.
-- push:if no-index sys_push_message_users ix_sys_push_message_users_message
CREATE INDEX `ix_sys_push_message_users_message` ON `sys_push_message_users` (`push_message_id`);
