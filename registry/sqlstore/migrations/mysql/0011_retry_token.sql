-- What the provider asked to be given back with a delivery's next try
-- (registry.Delivery.RetryToken: JPush's cid, a Getui list push's task),
-- so that a retry by any instance is deduplicated by the vendor. NULL when
-- the last try left none.
-- push:if no-column sys_push_deliveries retry_token
ALTER TABLE `sys_push_deliveries` ADD COLUMN `retry_token` varchar(255) DEFAULT NULL COMMENT 'what the next try gives the vendor back';
