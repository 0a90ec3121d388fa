-- The brief's four tables of the library, with the brief's columns, types,
-- defaults and comments. Only the character set differs: the brief's utf8
-- is 3-byte in MySQL and refuses 4-byte text such as emoji, so new tables
-- are utf8mb4. Tables that exist already are left to 0002, which adopts
-- them.

CREATE TABLE IF NOT EXISTS `sys_devices` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL COMMENT '设备用户名',
  `platform` varchar(255) DEFAULT NULL COMMENT '系统类型ios/android',
  `os` varchar(255) DEFAULT NULL COMMENT '系统名称',
  `os_version` varchar(255) DEFAULT NULL COMMENT '系统版本',
  `uuid` varchar(255) DEFAULT NULL COMMENT '设备 UUID',
  `push_device_token` varchar(255) DEFAULT '' COMMENT '推送 token',
  `alias` varchar(255) DEFAULT NULL COMMENT '设备别名',
  `push_platform` varchar(255) DEFAULT 'umeng' COMMENT '消息推送商，移动端代码中会根据不同系统使用不同的推送服务商',
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  KEY `index_sys_devices_on_platform_and_uuid` (`platform`,`uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `sys_user_devices` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_num` varchar(255) DEFAULT NULL COMMENT '用户编号',
  `device_id` int(11) DEFAULT NULL COMMENT '设备 ID',
  `state` tinyint(1) DEFAULT '1' COMMENT '设备状态',
  `screen_lock_state` tinyint(1) DEFAULT '0' COMMENT '设备锁屏状态',
  `screen_lock_type` varchar(255) DEFAULT NULL COMMENT '设备锁屏类型',
  `screen_lock` varchar(255) DEFAULT NULL COMMENT '设备锁屏密码',
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `sys_push_messages` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `title` varchar(255) DEFAULT NULL COMMENT '标题',
  `content` text COMMENT '内容',
  `extra_params_string` varchar(255) DEFAULT NULL COMMENT '额外参数',
  `push_type` varchar(255) DEFAULT NULL COMMENT '推送类型',
  `ios_device_tokens` text COMMENT 'ios token 列表',
  `android_device_tokens` text COMMENT 'android token 列表',
  `ios_task_id` varchar(255) DEFAULT NULL COMMENT 'ios 推送任务 id',
  `ios_ret` varchar(255) DEFAULT NULL COMMENT 'ios 推送结果',
  `ios_status` varchar(255) DEFAULT NULL COMMENT 'ios 推送状态',
  `ios_response` varchar(255) DEFAULT NULL COMMENT 'ios 推送响应',
  `ios_timestamp` varchar(255) DEFAULT NULL COMMENT 'ios 时间戳',
  `is_send_ios` tinyint(1) DEFAULT '1' COMMENT 'ios 推送任务是否执行',
  `android_task_id` varchar(255) DEFAULT NULL COMMENT 'android 推送任务 id',
  `android_ret` varchar(255) DEFAULT NULL COMMENT 'android 推送结果',
  `android_status` varchar(255) DEFAULT NULL COMMENT 'android 推送状态',
  `android_response` varchar(255) DEFAULT NULL COMMENT 'android 推送响应',
  `android_timestamp` varchar(255) DEFAULT NULL COMMENT 'android 时间戳',
  `is_send_android` tinyint(1) DEFAULT '1' COMMENT 'android 推送任务是否执行',
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `sys_message_center` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `title` varchar(255) DEFAULT NULL COMMENT '标题',
  `content` text NOT NULL COMMENT '内容',
  `extra_params_string` varchar(255) DEFAULT NULL COMMENT '额外参数',
  `notify_mode` varchar(255) DEFAULT 'sms' COMMENT '通知类型 sms/push/email',
  `notify_level` int(11) DEFAULT '0' COMMENT '通知类型 sms/push/email',
  `receivers` text NOT NULL COMMENT '接收人列表',
  `send_state` tinyint(1) DEFAULT '0' COMMENT '通知状态',
  `send_result` text COMMENT '通知结果',
  `remark` text,
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
