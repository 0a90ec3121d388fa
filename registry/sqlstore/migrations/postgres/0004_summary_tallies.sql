-- The running account (registry.Tally, JSON) behind each platform's
-- summary columns, so that a finish updates the summary without reading
-- the message's other deliveries or their tokens. NULL (rows written
-- before this migration, or by other programs) is computed from the
-- deliveries on the message's next finish. Nothing here rewrites a row.
-- push:if no-column sys_push_messages ios_tally
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS ios_tally text DEFAULT NULL;
-- push:if no-column sys_push_messages android_tally
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS android_tally text DEFAULT NULL;
