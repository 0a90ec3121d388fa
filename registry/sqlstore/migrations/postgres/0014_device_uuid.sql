-- A device another program wrote with its platform spelled otherwise
-- ("iOS", " android") is found by RegisterDevice through its uuid, so
-- that a phone registering again updates its row instead of adding a
-- second one beside it (the previous user would stay logged in on the
-- first).
CREATE INDEX IF NOT EXISTS ix_sys_devices_uuid ON sys_devices (uuid);
