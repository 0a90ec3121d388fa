-- The W3C traceparent of the call that recorded a push, kept with it so
-- that a retry by another instance links its vendor call span to the
-- push's trace. Nullable: pushes recorded without tracing, and rows other
-- programs write, have none.
-- push:if no-column sys_push_messages trace_parent
ALTER TABLE `sys_push_messages` ADD COLUMN `trace_parent` varchar(64) DEFAULT NULL COMMENT 'W3C traceparent of the recording call';
