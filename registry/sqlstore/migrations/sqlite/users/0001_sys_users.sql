-- The brief's sys_users table in SQLite's words, for hosts that want it
-- (MigrateUsers).

CREATE TABLE IF NOT EXISTS sys_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_name varchar(50) NOT NULL,
  user_num varchar(50) NOT NULL,
  user_pass varchar(50) NOT NULL,
  email varchar(28) DEFAULT '',
  mobile varchar(18) DEFAULT '',
  tel varchar(16) DEFAULT '',
  join_date datetime DEFAULT NULL,
  position varchar(50) DEFAULT NULL,
  dept_id int(11) DEFAULT NULL,
  dept_name varchar(50) DEFAULT NULL,
  active_flag int(11) DEFAULT '1',
  create_user int(11) DEFAULT NULL,
  update_user int(11) DEFAULT NULL,
  memo varchar(300) DEFAULT NULL,
  load_time datetime DEFAULT NULL,
  last_login_at datetime DEFAULT '2016-01-15 06:19:44',
  last_login_ip varchar(255) DEFAULT '',
  last_login_browser varchar(255) DEFAULT '',
  sign_in_count int(11) DEFAULT '0',
  last_login_version varchar(255) DEFAULT '',
  access_token varchar(255) DEFAULT '',
  store_ids text,
  coordinate varchar(255) DEFAULT NULL,
  coordinate_location varchar(255) DEFAULT NULL,
  created_at datetime DEFAULT CURRENT_TIMESTAMP,
  updated_at datetime DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS index_sys_users_on_user_num ON sys_users (user_num);
