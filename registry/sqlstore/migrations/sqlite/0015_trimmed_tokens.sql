-- A token another program wrote with spaces around it (" T") is the
-- phone's token T: the Service sends it trimmed. The Store compares tokens
-- trimmed too (the listing's newer holder, the census, the takeover,
-- disablements and receipts), so that a device row holding " T" and a
-- newer one holding "T" are seen as one phone, and the older row's user is
-- not shown the newer one's pushes. A token is looked up as stored through
-- the index on push_device_token, and among the rows whose token has
-- spaces around it through this partial index of their trimmed tokens:
-- rows the Store writes never enter it, so that it costs next to nothing
-- where no other program writes such tokens.
CREATE INDEX IF NOT EXISTS ix_sys_devices_spaced_token ON sys_devices (TRIM(push_device_token))
  WHERE (push_device_token LIKE ' %' OR push_device_token LIKE '% ');
