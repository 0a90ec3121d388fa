-- How many times an instance took over the listing of a push recorded in
-- stages (registry.Fanout.Claims): the Service ends a fanout claimed more
-- times than its retry policy allows. NULL for every push not listing.
ALTER TABLE sys_push_messages ADD COLUMN IF NOT EXISTS fanout_claims integer DEFAULT NULL;
