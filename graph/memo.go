package graph

import "sync"

// memoTable holds values derived from one index by packages above graph
// (escalation paths, for one), so each is computed once per index and
// dropped with it, instead of being kept in a package-level cache.
type memoTable struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
}

// Memo returns the value f computes for key on this index, calling f at most
// once per index however many goroutines ask. The index is read-only, so the
// value stays valid for the index's lifetime.
func (ix *Index) Memo(key string, f func() any) any {
	ix.memo.mu.Lock()
	if ix.memo.m == nil {
		ix.memo.m = map[string]*memoEntry{}
	}
	e, ok := ix.memo.m[key]
	if !ok {
		e = &memoEntry{}
		ix.memo.m[key] = e
	}
	ix.memo.mu.Unlock()
	e.once.Do(func() { e.v = f() })
	return e.v
}
