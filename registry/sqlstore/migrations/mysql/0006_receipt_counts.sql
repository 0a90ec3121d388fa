-- Receipt counters of each delivery: how many arrival, click (opened) and
-- dismissal receipts the vendor posted about it, added to by
-- RecordReceipts and summed per platform when a push's status is read;
-- and the index that finds a delivery by the id the vendor's receipt
-- names. Rows written before (or by other programs) count from 0.
-- (receipt_id, provider) is 2 x 255 utf8mb4 characters, 2040 bytes: within
-- InnoDB's 3072-byte key limit under the DYNAMIC row format, which 0002
-- created the table with on a server whose default is DYNAMIC (MySQL 5.7,
-- MariaDB 10.2 on); a server set to another default gets it here.
-- push:if no-column sys_push_deliveries arrived
ALTER TABLE `sys_push_deliveries` ADD COLUMN `arrived` int(11) NOT NULL DEFAULT 0 COMMENT 'arrival receipts received';
-- push:if no-column sys_push_deliveries opened
ALTER TABLE `sys_push_deliveries` ADD COLUMN `opened` int(11) NOT NULL DEFAULT 0 COMMENT 'click receipts received';
-- push:if no-column sys_push_deliveries dismissed
ALTER TABLE `sys_push_deliveries` ADD COLUMN `dismissed` int(11) NOT NULL DEFAULT 0 COMMENT 'dismissal receipts received';
-- push:if row-format sys_push_deliveries compact,redundant
ALTER TABLE `sys_push_deliveries` ROW_FORMAT=DYNAMIC;
-- push:if no-index sys_push_deliveries ix_sys_push_deliveries_receipt_id
CREATE INDEX `ix_sys_push_deliveries_receipt_id` ON `sys_push_deliveries` (`receipt_id`, `provider`);
