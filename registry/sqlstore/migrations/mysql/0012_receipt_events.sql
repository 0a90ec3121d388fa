-- The receipts counted, one row per (delivery, event, device token), so
-- that a receipt the vendor posts again counts once: RecordReceipts adds
-- to a delivery's counter only when it inserted the row. token_key is the
-- SHA-256 of the token in hex (a fixed-size key whatever the token, with
-- no collation to fold case or trailing spaces); event is 1 arrived,
-- 2 opened, 3 dismissed. Receipts recorded without a token are counted
-- without a row. The rows of old deliveries may be deleted once their
-- vendor no longer posts receipts about them (a few days).
CREATE TABLE IF NOT EXISTS `sys_push_receipts` (
  `delivery_id` bigint(20) NOT NULL COMMENT 'sys_push_deliveries.id',
  `event` tinyint(4) NOT NULL COMMENT '1 arrived, 2 opened, 3 dismissed',
  `token_key` char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'sha256 of the device token',
  PRIMARY KEY (`delivery_id`, `event`, `token_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='receipts counted';
