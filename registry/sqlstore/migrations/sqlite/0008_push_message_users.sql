-- The users each push was addressed to, one row per (user, push), so that
-- a user's pushes are listed newest first through one index, whatever the
-- size of the push. CreatePushMessage writes them in its transaction;
-- pushes written before this migration, or by other programs, have none.
CREATE TABLE IF NOT EXISTS sys_push_message_users (
  push_message_id integer NOT NULL,
  user_num varchar(255) NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_sys_push_message_users_user_num ON sys_push_message_users (user_num, push_message_id);
