-- The brief's four tables of the library in SQLite's words. SQLite keeps
-- the brief's type names (they set column affinities), so only what it
-- cannot parse changes: AUTO_INCREMENT becomes INTEGER PRIMARY KEY
-- AUTOINCREMENT, column comments and table options go, the KEY clause
-- becomes CREATE INDEX, and ON UPDATE CURRENT_TIMESTAMP goes (the library
-- sets updated_at itself). DATETIME values are text, "YYYY-MM-DD
-- HH:MM:SS[.ffffff]", which sorts in time order.

CREATE TABLE IF NOT EXISTS sys_devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name varchar(255) DEFAULT NULL,
  platform varchar(255) DEFAULT NULL,
  os varchar(255) DEFAULT NULL,
  os_version varchar(255) DEFAULT NULL,
  uuid varchar(255) DEFAULT NULL,
  push_device_token varchar(255) DEFAULT '',
  alias varchar(255) DEFAULT NULL,
  push_platform varchar(255) DEFAULT 'umeng',
  created_at datetime DEFAULT CURRENT_TIMESTAMP,
  updated_at datetime DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS index_sys_devices_on_platform_and_uuid ON sys_devices (platform, uuid);

CREATE TABLE IF NOT EXISTS sys_user_devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_num varchar(255) DEFAULT NULL,
  device_id int(11) DEFAULT NULL,
  state tinyint(1) DEFAULT '1',
  screen_lock_state tinyint(1) DEFAULT '0',
  screen_lock_type varchar(255) DEFAULT NULL,
  screen_lock varchar(255) DEFAULT NULL,
  created_at datetime DEFAULT CURRENT_TIMESTAMP,
  updated_at datetime DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS sys_push_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title varchar(255) DEFAULT NULL,
  content text,
  extra_params_string varchar(255) DEFAULT NULL,
  push_type varchar(255) DEFAULT NULL,
  ios_device_tokens text,
  android_device_tokens text,
  ios_task_id varchar(255) DEFAULT NULL,
  ios_ret varchar(255) DEFAULT NULL,
  ios_status varchar(255) DEFAULT NULL,
  ios_response varchar(255) DEFAULT NULL,
  ios_timestamp varchar(255) DEFAULT NULL,
  is_send_ios tinyint(1) DEFAULT '1',
  android_task_id varchar(255) DEFAULT NULL,
  android_ret varchar(255) DEFAULT NULL,
  android_status varchar(255) DEFAULT NULL,
  android_response varchar(255) DEFAULT NULL,
  android_timestamp varchar(255) DEFAULT NULL,
  is_send_android tinyint(1) DEFAULT '1',
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL
);

CREATE TABLE IF NOT EXISTS sys_message_center (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title varchar(255) DEFAULT NULL,
  content text NOT NULL,
  extra_params_string varchar(255) DEFAULT NULL,
  notify_mode varchar(255) DEFAULT 'sms',
  notify_level int(11) DEFAULT '0',
  receivers text NOT NULL,
  send_state tinyint(1) DEFAULT '0',
  send_result text,
  remark text,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL
);
