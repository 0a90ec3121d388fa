-- The brief's sys_users table, for hosts that want it (MigrateUsers). Only
-- the character set differs from the brief: utf8mb4, so names may hold
-- any character.

CREATE TABLE IF NOT EXISTS `sys_users` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_name` varchar(50) NOT NULL COMMENT '用户名称',
  `user_num` varchar(50) NOT NULL COMMENT '用户编号',
  `user_pass` varchar(50) NOT NULL COMMENT '登录密码',
  `email` varchar(28) DEFAULT '' COMMENT '邮件',
  `mobile` varchar(18) DEFAULT '' COMMENT '联系方式',
  `tel` varchar(16) DEFAULT '',
  `join_date` datetime DEFAULT NULL,
  `position` varchar(50) DEFAULT NULL,
  `dept_id` int(11) DEFAULT NULL,
  `dept_name` varchar(50) DEFAULT NULL,
  `active_flag` int(11) DEFAULT '1',
  `create_user` int(11) DEFAULT NULL,
  `update_user` int(11) DEFAULT NULL,
  `memo` varchar(300) DEFAULT NULL,
  `load_time` datetime DEFAULT NULL,
  `last_login_at` datetime DEFAULT '2016-01-15 06:19:44',
  `last_login_ip` varchar(255) DEFAULT '',
  `last_login_browser` varchar(255) DEFAULT '',
  `sign_in_count` int(11) DEFAULT '0',
  `last_login_version` varchar(255) DEFAULT '',
  `access_token` varchar(255) DEFAULT '',
  `store_ids` text,
  `coordinate` varchar(255) DEFAULT NULL,
  `coordinate_location` varchar(255) DEFAULT NULL,
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `index_sys_users_on_user_num` (`user_num`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
