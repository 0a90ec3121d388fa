package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedians(t *testing.T) {
	runs := [][]kv{
		{{"db", "postgres"}, {"rows", 20000}, {"rows_per_s", 2800.0}, {"ratio_vs_river", 0.12}, {"staged", true}, {"passes", 1}},
		{{"db", "postgres"}, {"rows", 20000}, {"rows_per_s", 2600.0}, {"ratio_vs_river", 0.14}, {"staged", false}, {"passes", 2}},
		{{"db", "postgres"}, {"rows", 20000}, {"rows_per_s", 3000.0}, {"ratio_vs_river", 0.10}, {"staged", true}, {"passes", 3}},
	}
	got := medians(runs)
	assert.Equal(t, `RESULT scenario=scanner runs=3 db=postgres rows=20000 rows_per_s=2800.000 ratio_vs_river=0.120 staged=true,false,true passes=2`,
		resultLine("RESULT", "scanner", got), "the median of each key; a ratio's is the median of each run's ratio")
	assert.Equal(t, 2800.0, runs[0][2].val, "the runs are left as they were")

	even := medians([][]kv{{{"calls", 400}, {"s", 1.0}}, {{"calls", 401}, {"s", 2.0}}})
	assert.Equal(t, "RESULT scenario=x runs=2 calls=400.500 s=1.500", resultLine("RESULT", "x", even),
		"an even count: the mean of the middle two, which may be a fraction for an int key")
	assert.Nil(t, medians(nil))
}

func TestCheckOptions(t *testing.T) {
	require.NoError(t, checkOptions(options{count: 1, cpuProfile: "cpu.out"}))
	require.NoError(t, checkOptions(options{count: 3}))
	assert.ErrorContains(t, checkOptions(options{count: 0}), "-count must be at least 1")
	assert.ErrorContains(t, checkOptions(options{count: 3, memProfile: "mem.out"}), "use them with -count 1")
}
