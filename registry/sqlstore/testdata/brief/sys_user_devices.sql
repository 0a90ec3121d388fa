CREATE TABLE `sys_user_devices` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_num` varchar(255) DEFAULT NULL comment '用户编号',
  `device_id` int(11) DEFAULT NULL comment '设备 ID',
  `state` tinyint(1) DEFAULT '1' comment '设备状态',
  `screen_lock_state` tinyint(1) DEFAULT '0' comment '设备锁屏状态',
  `screen_lock_type` varchar(255) DEFAULT NULL comment '设备锁屏类型',
  `screen_lock` varchar(255) DEFAULT NULL comment '设备锁屏密码',
  `created_at` datetime DEFAULT CURRENT_TIMESTAMP,
  `updated_at` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=0 DEFAULT CHARSET=utf8
