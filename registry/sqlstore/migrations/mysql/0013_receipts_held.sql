-- Receipts held until their delivery is known: a vendor may post a
-- device's receipt before the outcome of the send it is about (the
-- delivery's receipt_id) is recorded. HoldReceipt keeps such a receipt
-- here; AdoptReceipts (each Scanner pass) records it once its delivery
-- has the receipt_id and deletes it in the same transaction, and deletes
-- the receipts held longer than push.Config.ReceiptHold (receipts of
-- pushes sent by other systems, or of sends whose answer was lost).
-- held_at is a wall-clock time in the store's Location.
CREATE TABLE IF NOT EXISTS `sys_push_receipts_held` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `provider` varchar(255) NOT NULL,
  `receipt_id` varchar(255) NOT NULL COMMENT 'vendor task id or msg id',
  `token` varchar(255) NOT NULL DEFAULT '' COMMENT 'device token, empty when the vendor did not say',
  `arrived` int(11) NOT NULL DEFAULT 0,
  `opened` int(11) NOT NULL DEFAULT 0,
  `dismissed` int(11) NOT NULL DEFAULT 0,
  `held_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_sys_push_receipts_held_held_at` (`held_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='receipts waiting for their delivery';
