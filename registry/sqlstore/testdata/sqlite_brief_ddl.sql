-- A SQLite transliteration of the brief's five CREATE TABLE statements
-- (testdata/brief/*.sql hold the originals), standing in for a SQLite
-- database that the brief's system created before the library existed.
--
-- Changed only where SQLite cannot parse MySQL:
--   `id` int(11) NOT NULL AUTO_INCREMENT + PRIMARY KEY (`id`)
--                         -> `id` INTEGER PRIMARY KEY AUTOINCREMENT
--   comment '…'           -> an SQL comment on the same line
--   ON UPDATE CURRENT_TIMESTAMP, ENGINE/AUTO_INCREMENT/CHARSET options -> dropped
--   KEY / UNIQUE KEY      -> CREATE INDEX / CREATE UNIQUE INDEX
-- Names, type names, NULL-ability and defaults are the brief's.

CREATE TABLE `sys_users` (
  `id` INTEGER PRIMARY KEY AUTOINCREMENT,
  `user_name` varchar(50) NOT NULL, -- 用户名称
  `user_num` varchar(50) NOT NULL, -- 用户编号
  `user_pass` varchar(50) NOT NULL, -- 登录密码
  `email` varchar(28) DEFAULT '', -- 邮件
  `mobile` varchar(18) DEFAULT '', -- 联系方式
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
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX `index_sys_users_on_user_num` ON `sys_users` (`user_num`);

CREATE TABLE `sys_devices` (
  `id` INTEGER PRIMARY KEY AUTOINCREMENT,
  `name` varchar(255) DEFAULT NULL, -- 设备用户名
  `platform` varchar(255) DEFAULT NULL, -- 系统类型ios/android
  `os` varchar(255) DEFAULT NULL, -- 系统名称
  `os_version` varchar(255) DEFAULT NULL, -- 系统版本
  `uuid` varchar(255) DEFAULT NULL, -- 设备 UUID
  `push_device_token` varchar(255) DEFAULT '', -- 推送 token
  `alias` varchar(255) DEFAULT NULL, -- 设备别名
  `push_platform` varchar(255) DEFAULT 'umeng', -- 消息推送商，移动端代码中会根据不同系统使用不同的推送服务商
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX `index_sys_devices_on_platform_and_uuid` ON `sys_devices` (`platform`, `uuid`);

CREATE TABLE `sys_user_devices` (
  `id` INTEGER PRIMARY KEY AUTOINCREMENT,
  `user_num` varchar(255) DEFAULT NULL, -- 用户编号
  `device_id` int(11) DEFAULT NULL, -- 设备 ID
  `state` tinyint(1) DEFAULT '1', -- 设备状态
  `screen_lock_state` tinyint(1) DEFAULT '0', -- 设备锁屏状态
  `screen_lock_type` varchar(255) DEFAULT NULL, -- 设备锁屏类型
  `screen_lock` varchar(255) DEFAULT NULL, -- 设备锁屏密码
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE `sys_push_messages` (
  `id` INTEGER PRIMARY KEY AUTOINCREMENT,
  `title` varchar(255) DEFAULT NULL, -- 标题
  `content` text, -- 内容
  `extra_params_string` varchar(255) DEFAULT NULL, -- 额外参数
  `push_type` varchar(255) DEFAULT NULL, -- 推送类型
  `ios_device_tokens` text, -- ios token 列表
  `android_device_tokens` text, -- android token 列表
  `ios_task_id` varchar(255) DEFAULT NULL, -- ios 推送任务 id
  `ios_ret` varchar(255) DEFAULT NULL, -- ios 推送结果
  `ios_status` varchar(255) DEFAULT NULL, -- ios 推送状态
  `ios_response` varchar(255) DEFAULT NULL, -- ios 推送响应
  `ios_timestamp` varchar(255) DEFAULT NULL, -- ios 时间戳
  `is_send_ios` tinyint(1) DEFAULT '1', -- ios 推送任务是否执行
  `android_task_id` varchar(255) DEFAULT NULL, -- android 推送任务 id
  `android_ret` varchar(255) DEFAULT NULL, -- android 推送结果
  `android_status` varchar(255) DEFAULT NULL, -- android 推送状态
  `android_response` varchar(255) DEFAULT NULL, -- android 推送响应
  `android_timestamp` varchar(255) DEFAULT NULL, -- android 时间戳
  `is_send_android` tinyint(1) DEFAULT '1', -- android 推送任务是否执行
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL
);

CREATE TABLE `sys_message_center` (
  `id` INTEGER PRIMARY KEY AUTOINCREMENT,
  `title` varchar(255) DEFAULT NULL, -- 标题
  `content` text NOT NULL, -- 内容
  `extra_params_string` varchar(255) DEFAULT NULL, -- 额外参数
  `notify_mode` varchar(255) DEFAULT 'sms', -- 通知类型 sms/push/email
  `notify_level` int(11) DEFAULT '0', -- 通知类型 sms/push/email
  `receivers` text NOT NULL, -- 接收人列表
  `send_state` tinyint(1) DEFAULT '0', -- 通知状态
  `send_result` text, -- 通知结果
  `remark` text,
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL
);
