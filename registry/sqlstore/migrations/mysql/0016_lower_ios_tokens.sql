-- An iPhone's Umeng token is the APNs token in hex, which apps write in
-- either case. Registrations store it in lower case from this release on
-- (umeng.CanonicalToken), and the Store compares tokens as stored (through
-- push_token_key, whose collation is binary, whatever the column's): a row
-- an earlier release (or another program) wrote in upper case and a newer
-- lower-case row of the same phone would be two phones, and the older
-- row's user shown the newer one's pushes. So the rows held in upper case
-- are lower-cased once, here. Only Umeng's iOS rows (a NULL or empty
-- push_platform is Umeng's); their timestamps are kept (updated_at set to
-- itself: the brief's column is ON UPDATE CURRENT_TIMESTAMP).
UPDATE `sys_devices` SET `push_device_token` = LOWER(`push_device_token`), `updated_at` = `updated_at`
  WHERE `push_token_key` <> LOWER(`push_token_key`) AND LOWER(TRIM(`platform`)) = 'ios'
    AND (`push_platform` IS NULL OR LOWER(TRIM(`push_platform`)) IN ('', 'umeng'));
