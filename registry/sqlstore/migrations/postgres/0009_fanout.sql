-- A large push's deliveries are recorded in stages while its audience is
-- listed (registry.Fanouts): fanout_after is the last user, in byte order,
-- whose deliveries are recorded ('' for none), and fanout_claim and
-- fanout_until the claim of the instance listing the rest. All three are
-- NULL once every delivery is recorded, and for every other push.
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS fanout_after varchar(255) DEFAULT NULL;
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS fanout_claim varchar(64) DEFAULT NULL;
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS fanout_until timestamp(6) DEFAULT NULL;
CREATE INDEX IF NOT EXISTS ix_sys_push_messages_fanout_until ON sys_push_messages (fanout_until);
-- The users of one push, for the instance that goes on with its fanout.
CREATE INDEX IF NOT EXISTS ix_sys_push_message_users_message ON sys_push_message_users (push_message_id);
