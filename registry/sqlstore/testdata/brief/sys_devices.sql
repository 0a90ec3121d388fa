CREATE TABLE `sys_devices` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL comment '设备用户名',
  `platform` varchar(255) DEFAULT NULL comment '系统类型ios/android',
  `os` varchar(255) DEFAULT NULL comment '系统名称',
  `os_version` varchar(255) DEFAULT NULL comment '系统版本',
  `uuid` varchar(255) DEFAULT NULL comment '设备 UUID',
  `push_device_token` varchar(255) DEFAULT '' comment '推送 token',
  `alias` varchar(255) DEFAULT NULL comment '设备别名',
  `push_platform` varchar(255) DEFAULT 'umeng' comment '消息推送商，移动端代码中会根据不同系统使用不同的推送服务商',
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  KEY `index_sys_devices_on_platform_and_uuid` (`platform`,`uuid`)
) ENGINE=InnoDB AUTO_INCREMENT=0 DEFAULT CHARSET=utf8
