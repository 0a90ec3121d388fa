-- One row per push token ever registered, keyed by a hash of (push
-- platform, platform, token). RegisterDevice locks the row of the token it
-- registers before it touches a device, so that registrations of one token
-- on different devices take turns and the token takeover sees every other
-- holder (see the Store's RegisterDevice). The rows hold no data.
CREATE TABLE IF NOT EXISTS `sys_push_token_locks` (
  `token_key` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'sha256 of push platform, platform and token',
  PRIMARY KEY (`token_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
