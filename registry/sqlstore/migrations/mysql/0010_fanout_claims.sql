-- How many times an instance took over the listing of a push recorded in
-- stages (registry.Fanout.Claims): the Service ends a fanout claimed more
-- times than its retry policy allows. NULL for every push not listing.
-- push:if no-column sys_push_messages fanout_claims
ALTER TABLE `sys_push_messages` ADD COLUMN `fanout_claims` int DEFAULT NULL COMMENT 'takeovers of the fanout';
