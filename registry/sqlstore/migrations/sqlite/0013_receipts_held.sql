-- Receipts held until their delivery is known: a vendor may post a
-- device's receipt before the outcome of the send it is about (the
-- delivery's receipt_id) is recorded. HoldReceipt keeps such a receipt
-- here; AdoptReceipts (each Scanner pass) records it once its delivery
-- has the receipt_id and deletes it in the same transaction, and deletes
-- the receipts held longer than push.Config.ReceiptHold (receipts of
-- pushes sent by other systems, or of sends whose answer was lost).
-- held_at is a wall-clock time in the store's Location.
CREATE TABLE IF NOT EXISTS sys_push_receipts_held (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  provider varchar(255) NOT NULL,
  receipt_id varchar(255) NOT NULL,
  token varchar(255) NOT NULL DEFAULT '',
  arrived integer NOT NULL DEFAULT 0,
  opened integer NOT NULL DEFAULT 0,
  dismissed integer NOT NULL DEFAULT 0,
  held_at datetime NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_sys_push_receipts_held_held_at ON sys_push_receipts_held (held_at);
