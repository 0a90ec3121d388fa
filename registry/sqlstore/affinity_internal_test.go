package sqlstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTextAffinity: SQLite gives a column text affinity when its declared
// type holds CHAR, CLOB or TEXT and not INT, whose rule comes first: a
// user_num another program declared INT (or POINT, or CHARINT) holds
// numbers, which do not compare as Go compares strings, and is never
// listed by range.
func TestTextAffinity(t *testing.T) {
	for declared, want := range map[string]bool{
		"VARCHAR(64)": true, "varchar(255)": true, "TEXT": true, "CLOB": true, "NATIONAL CHARACTER(70)": true,
		"INT": false, "INTEGER": false, "BIGINT": false, "CHARINT": false, "POINT": false,
		"": false, "BLOB": false, "REAL": false, "NUMERIC": false,
	} {
		assert.Equal(t, want, textAffinity(declared), "%q", declared)
	}
}
