package push

// SetStages makes s list the targets of chunkUsers users a query and
// record a large push in stages of stageChunks chunks, so that tests
// reach the staged path with a few hundred users instead of 10,000.
func SetStages(s *Service, chunkUsers, stageChunks int) { s.chunk, s.stage = chunkUsers, stageChunks }

// PartKey is partKey: the idempotency key of part i of a split delivery.
var PartKey = partKey

// SameOverrides is sameOverrides: stored overrides against canonical ones.
var SameOverrides = sameOverrides

// WriteJSON is writeJSON, for the test of an answer that cannot be encoded.
var WriteJSON = writeJSON
