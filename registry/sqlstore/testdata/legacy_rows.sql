-- Rows the brief's system wrote before the library existed, as plain
-- INSERTs that MySQL/MariaDB and SQLite both run. They hold Chinese text
-- (3-byte UTF-8, which the brief's utf8 tables take), legacy habits
-- (several active links on one device, a duplicate link, a NULL state, a
-- NULL push_platform, an empty token) and messages in every state.

INSERT INTO sys_users (id, user_name, user_num, user_pass, email, mobile, created_at, updated_at) VALUES
  (9101, '张三', 'A001', 'x', 'zs@example.com', '13800000001', '2018-01-02 09:00:00', '2018-01-02 09:00:00'),
  (9102, '李四', 'A002', 'x', 'ls@example.com', '13800000002', '2018-01-02 09:00:00', '2018-01-02 09:00:00'),
  (9103, '王五', 'A003', 'x', 'ww@example.com', '13800000003', '2018-01-02 09:00:00', '2018-01-02 09:00:00');

INSERT INTO sys_devices (id, name, platform, os, os_version, uuid, push_device_token, alias, push_platform, created_at, updated_at) VALUES
  (1, '张三的 iPhone', 'ios', 'iOS', '11.2', 'LEGACY-IOS-1', '0c1f7a3f5b0e4d4c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f', '老张', 'umeng', '2018-03-01 09:00:00', '2018-03-01 09:00:00'),
  (2, '李四的小米', 'android', 'Android', '8.0', 'LEGACY-AND-2', 'Ag_legacy_android_token_2_xxxxxxxxxxxxxxxxxx', NULL, 'umeng', '2018-03-02 09:00:00', '2018-03-02 09:00:00'),
  (3, '共用的华为', 'android', 'Android', '7.1', 'LEGACY-AND-3', 'Ag_legacy_android_token_3_xxxxxxxxxxxxxxxxxx', NULL, 'umeng', '2018-03-03 09:00:00', '2018-03-03 09:00:00'),
  (4, '李四的 iPad', 'ios', 'iOS', '10.3', 'LEGACY-IOS-4', '4a4b4c4d4e4f404142434445464748494a4b4c4d4e4f40414243444546474849', NULL, NULL, '2018-03-04 09:00:00', '2018-03-04 09:00:00'),
  (5, '王五的旧手机', 'android', 'Android', '6.0', 'LEGACY-AND-5', '', NULL, 'umeng', '2018-03-05 09:00:00', '2018-03-05 09:00:00');

INSERT INTO sys_user_devices (id, user_num, device_id, state, created_at, updated_at) VALUES
  (1, 'A001', 1, 1, '2018-03-01 09:00:00', '2018-03-01 09:00:00'),
  (2, 'A002', 2, 1, '2018-03-02 09:00:00', '2018-03-02 09:00:00'),
  (3, 'A003', 3, 1, '2018-03-03 09:00:00', '2018-03-03 09:00:00'),
  (4, 'A001', 3, 1, '2018-03-04 09:00:00', '2018-03-04 09:00:00'),
  (5, 'A002', 4, 1, '2018-03-04 10:00:00', '2018-03-04 10:00:00'),
  (6, 'A002', 1, 0, '2018-03-05 09:00:00', '2018-03-05 09:00:00'),
  (7, 'A001', 1, 1, '2018-03-06 09:00:00', '2018-03-06 09:00:00'),
  (8, 'A003', 5, 1, '2018-03-07 09:00:00', '2018-03-07 09:00:00'),
  (9, 'A003', 2, NULL, '2018-03-08 09:00:00', '2018-03-08 09:00:00');

INSERT INTO sys_push_messages (id, title, content, extra_params_string, push_type, ios_device_tokens, android_device_tokens,
    ios_task_id, ios_ret, ios_status, ios_response, ios_timestamp, is_send_ios,
    android_task_id, android_ret, android_status, android_response, android_timestamp, is_send_android, created_at, updated_at) VALUES
  (1, '订单提醒', '您有一笔新订单，请及时处理。', '{"page":"orders"}', 'users',
    '0c1f7a3f5b0e4d4c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f', 'Ag_legacy_android_token_2_xxxxxxxxxxxxxxxxxx',
    'us12345678901234567890', 'SUCCESS', '2', '{"ret":"SUCCESS","data":{"task_id":"us12345678901234567890"}}', '1520060400000', 1,
    'ua12345678901234567890', 'SUCCESS', '2', '{"ret":"SUCCESS","data":{"task_id":"ua12345678901234567890"}}', '1520060400000', 1,
    '2018-03-03 15:00:00', '2018-03-03 15:05:00'),
  (2, '库存预警', '仓库 A 的库存低于警戒线。', NULL, 'users',
    NULL, 'Ag_legacy_android_token_3_xxxxxxxxxxxxxxxxxx',
    NULL, NULL, NULL, NULL, NULL, 0,
    'ua99999999999999999999', 'FAIL', '3', '{"ret":"FAIL","data":{"error_code":"2022"}}', '1520150400000', 1,
    '2018-03-04 16:00:00', '2018-03-04 16:01:00');

INSERT INTO sys_message_center (id, title, content, extra_params_string, notify_mode, notify_level, receivers, send_state, send_result, remark, created_at, updated_at) VALUES
  (1, '订单提醒', '您有一笔新订单，请及时处理。', '{"page":"orders"}', 'push', 0, 'A001,A002', 1, 'push_message#1', NULL, '2018-03-03 14:59:00', '2018-03-03 15:00:00'),
  (2, '磁盘告警', '服务器 db-1 磁盘使用率 91%。', NULL, 'push', 2, 'A001', 0, NULL, NULL, '2018-03-05 08:00:00', '2018-03-05 08:00:00'),
  (3, '验证码', '您的验证码是 4821。', NULL, 'sms', 0, '13800000001', 0, NULL, NULL, '2018-03-05 08:01:00', '2018-03-05 08:01:00');
