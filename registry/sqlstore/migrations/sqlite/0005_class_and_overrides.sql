-- The message class of a push (a provider.Class) and its per-provider
-- options as a JSON object, kept with the push so that every send of it,
-- retries by other instances included, carries them; and the class of a
-- queued message-center push row. All nullable: rows other programs write
-- need neither.
-- push:if no-column sys_push_messages push_class
ALTER TABLE sys_push_messages ADD COLUMN push_class varchar(32) DEFAULT NULL;
-- push:if no-column sys_push_messages push_overrides
ALTER TABLE sys_push_messages ADD COLUMN push_overrides text DEFAULT NULL;
-- push:if no-column sys_message_center push_class
ALTER TABLE sys_message_center ADD COLUMN push_class varchar(32) DEFAULT NULL;
