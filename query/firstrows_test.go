package query

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// firstRows must pick exactly the rows a stable sort of all rows puts
// first, ties included.
func TestFirstRowsMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, k, distinct int }{
		{0, 5, 1}, {1, 5, 1}, {10, 0, 3}, {10, 10, 3}, {10, 20, 3}, {200, 7, 4}, {1000, 50, 1000}, {1000, 50, 2},
	} {
		keys := make([]int, tc.n)
		for i := range keys {
			keys[i] = r.IntN(tc.distinct)
		}
		cmp := func(a, b int) int {
			if keys[a] != keys[b] {
				return keys[a] - keys[b]
			}
			return a - b
		}
		want := make([]int, tc.n)
		for i := range want {
			want[i] = i
		}
		sort.SliceStable(want, func(a, b int) bool { return keys[want[a]] < keys[want[b]] })
		want = want[:min(tc.k, tc.n)]
		if got := firstRows(tc.n, tc.k, cmp); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("n=%d k=%d: %v, want %v", tc.n, tc.k, got, want)
		}
	}
}
