-- Receipt counters of each delivery: how many arrival, click (opened) and
-- dismissal receipts the vendor posted about it, added to by
-- RecordReceipts and summed per platform when a push's status is read;
-- and the index that finds a delivery by the id the vendor's receipt
-- names. Rows written before (or by other programs) count from 0.
-- push:if no-column sys_push_deliveries arrived
ALTER TABLE sys_push_deliveries ADD COLUMN arrived integer NOT NULL DEFAULT 0;
-- push:if no-column sys_push_deliveries opened
ALTER TABLE sys_push_deliveries ADD COLUMN opened integer NOT NULL DEFAULT 0;
-- push:if no-column sys_push_deliveries dismissed
ALTER TABLE sys_push_deliveries ADD COLUMN dismissed integer NOT NULL DEFAULT 0;
-- push:if no-index sys_push_deliveries ix_sys_push_deliveries_receipt_id
CREATE INDEX ix_sys_push_deliveries_receipt_id ON sys_push_deliveries (receipt_id, provider);
