-- The receipts counted, one row per (delivery, event, device token), so
-- that a receipt the vendor posts again counts once: RecordReceipts adds
-- to a delivery's counter only when it inserted the row. token_key is the
-- SHA-256 of the token in hex; event is 1 arrived, 2 opened, 3 dismissed.
-- Receipts recorded without a token are counted without a row. The rows
-- of old deliveries may be deleted once their vendor no longer posts
-- receipts about them (a few days).
CREATE TABLE IF NOT EXISTS sys_push_receipts (
  delivery_id bigint NOT NULL,
  event smallint NOT NULL,
  token_key char(64) NOT NULL,
  PRIMARY KEY (delivery_id, event, token_key)
) WITHOUT ROWID;
