// Package inventory keeps Steward's graph: the stored subgraphs (the
// record, in a cayley store) and the in-memory index questions run on. A
// load replaces whole sources in the store first and swaps the index only
// after the store committed, so a failed load leaves both answering
// exactly as before.
package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/steward-oss/steward/graph"
)

// Store is the record the inventory reads and replaces sources in.
type Store interface {
	Replace(ctx context.Context, sgs ...*graph.Subgraph) error
	Load(ctx context.Context) ([]*graph.Subgraph, error)
	Close() error
}

// Deriver computes extra subgraphs from the loaded ones each time the
// index is rebuilt (ownership inference, for one). Derived subgraphs are
// not stored: they are recomputed from the record.
type Deriver func(sgs []*graph.Subgraph) []*graph.Subgraph

// Inventory is safe for concurrent use: readers take the current index
// with Index; loads serialise on a mutex.
type Inventory struct {
	store  Store
	derive []Deriver
	log    *slog.Logger

	mu  sync.Mutex // serialises loads
	sgs map[string]*graph.Subgraph
	cur atomic.Pointer[snapshot]
	// storeGen is the store generation the index reflects.
	storeGen int64
	gen      atomic.Int64
	opts     Options
}

// Options configure an Inventory.
type Options struct {
	Logger   *slog.Logger
	Derivers []Deriver
}

// Open reads everything stored and builds the index.
func Open(ctx context.Context, st Store, opts Options) (*Inventory, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	inv := &Inventory{store: st, derive: opts.Derivers, log: opts.Logger, sgs: map[string]*graph.Subgraph{}, opts: opts}
	if err := inv.Reload(ctx); err != nil {
		return nil, err
	}
	return inv, nil
}

// Reload re-reads the store (another replica may have written it) and
// rebuilds the index.
func (inv *Inventory) Reload(ctx context.Context) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	// Read the generation before the data: a write landing in between is
	// then seen as a change by the next RefreshIfChanged, never missed.
	inv.noteGeneration(ctx)
	sgs, err := inv.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("inventory: load store: %w", err)
	}
	m := make(map[string]*graph.Subgraph, len(sgs))
	for _, sg := range sgs {
		m[sg.Source] = sg
	}
	inv.sgs = m
	inv.rebuild()
	return nil
}

// Replace stores sgs (each replacing its whole source) and, once the store
// committed, swaps in a new index. On error nothing changed.
func (inv *Inventory) Replace(ctx context.Context, sgs ...*graph.Subgraph) error {
	for _, sg := range sgs {
		if err := sg.Validate(); err != nil {
			return err
		}
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err := inv.store.Replace(ctx, sgs...); err != nil {
		return fmt.Errorf("inventory: replace: %w", err)
	}
	for _, sg := range sgs {
		c := *sg
		c.Normalize()
		inv.sgs[sg.Source] = &c
	}
	inv.noteGeneration(ctx)
	inv.rebuild()
	return nil
}

func (inv *Inventory) rebuild() {
	base := inv.subgraphsLocked()
	all := base
	for _, d := range inv.derive {
		all = append(all, d(base)...)
	}
	inv.cur.Store(&snapshot{ix: graph.Build(all), all: all})
	inv.gen.Add(1)
	inv.log.Debug("index rebuilt", "sources", len(all))
}

func (inv *Inventory) subgraphsLocked() []*graph.Subgraph {
	out := make([]*graph.Subgraph, 0, len(inv.sgs))
	for _, sg := range inv.sgs {
		out = append(out, sg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Index is the current index. It never changes once returned; a load
// builds a new one.
func (inv *Inventory) Index() *graph.Index { return inv.cur.Load().ix }

// snapshot is one built index and the subgraphs it was built from,
// swapped together so readers never see one without the other.
type snapshot struct {
	ix  *graph.Index
	all []*graph.Subgraph
}

// Subgraphs returns the stored subgraphs (not derived ones), by source.
func (inv *Inventory) Subgraphs() []*graph.Subgraph {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.subgraphsLocked()
}

// All returns the subgraphs the current index was built from: the stored
// ones and the derived ones.
func (inv *Inventory) All() []*graph.Subgraph { return inv.cur.Load().all }

// generationer is implemented by stores shared between replicas (the
// PostgreSQL backend): its generation moves on every committed replace.
type generationer interface {
	Generation(ctx context.Context) (int64, error)
}

// RefreshIfChanged reloads from the store when another writer (a second
// replica over the same PostgreSQL) has replaced sources since this
// inventory last read it. It reports whether it reloaded.
func (inv *Inventory) RefreshIfChanged(ctx context.Context) (bool, error) {
	g, ok := inv.store.(generationer)
	if !ok {
		return false, nil
	}
	cur, err := g.Generation(ctx)
	if err != nil {
		return false, fmt.Errorf("inventory: store generation: %w", err)
	}
	inv.mu.Lock()
	seen := inv.storeGen
	inv.mu.Unlock()
	if cur == seen {
		return false, nil
	}
	return true, inv.Reload(ctx)
}

// noteGeneration records the store generation just read or written;
// callers hold inv.mu.
func (inv *Inventory) noteGeneration(ctx context.Context) {
	if g, ok := inv.store.(generationer); ok {
		if cur, err := g.Generation(ctx); err == nil {
			inv.storeGen = cur
		}
	}
}

// Generation counts index rebuilds.
func (inv *Inventory) Generation() int64 { return inv.gen.Load() }

// Close closes the store.
func (inv *Inventory) Close() error { return inv.store.Close() }
