package provider_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestCheckVivoCategory: vivo's upper-case form is required, and a
// category of one classification is refused with the other; a category
// vivo granted the app (not among the known ones) passes with either.
func TestCheckVivoCategory(t *testing.T) {
	zero, one := 0, 1
	for _, tt := range []struct {
		name     string
		category string
		cls      *int
		ok       bool
	}{
		{"empty", "", &one, true},
		{"system with system", "IM", &one, true},
		{"operational with operational", "MARKETING", &zero, true},
		{"known, no classification", "NEWS", nil, true},
		{"granted category", "SPECIAL_2", &zero, true},
		{"lower case", "im", nil, false},
		{"mixed case", "Order", &one, false},
		{"space", "IM ", nil, false},
		{"system with operational", "DEVICE_REMINDER", &zero, false},
		{"operational with system", "SOCIAL", &one, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := provider.CheckVivoCategory("f.category", tt.category, tt.cls)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, "f.category", provider.FieldOf(err))
		})
	}
	err := provider.CheckVivoCategory("f", strings.Repeat("x", 60000), nil)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 300, "a long value is not echoed whole")
	assert.Nil(t, provider.VivoClassification(""))
	assert.Equal(t, 0, *provider.VivoClassification(provider.ClassMarketing))
	assert.Equal(t, 1, *provider.VivoClassification(provider.ClassService))
}
