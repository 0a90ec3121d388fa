CREATE TABLE `sys_message_center` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `title` varchar(255) DEFAULT NULL comment '标题',
  `content` text NOT NULL comment '内容',
  `extra_params_string` varchar(255) DEFAULT NULL comment '额外参数',
  `notify_mode` varchar(255) DEFAULT 'sms' comment '通知类型 sms/push/email',
  `notify_level` int(11) DEFAULT '0' comment '通知类型 sms/push/email',
  `receivers` text NOT NULL comment '接收人列表',
  `send_state` tinyint(1) DEFAULT '0' comment '通知状态',
  `send_result` text comment '通知结果',
  `remark` text,
  `created_at` datetime NOT NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=0 DEFAULT CHARSET=utf8
