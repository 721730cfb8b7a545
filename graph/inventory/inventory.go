// Package inventory keeps Steward's graph: the stored subgraphs (the
// record, in a cayley store) and the in-memory index questions run on. A
// load replaces whole sources in the store first and swaps the index only
// after the store committed, so a failed load leaves both answering
// exactly as before.
//
// When the store keeps an index snapshot (bolt, PostgreSQL), Open uses
// it if it is tagged with the store's current generation and the
// inventory's SnapshotKey: the index then opens in milliseconds and the
// record is read only when something needs the subgraphs themselves (a
// replace, an export). Every index built from an exactly known state of
// the record is written back as the new snapshot.
package inventory

import (
	"context"

	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
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
	// loaded: sgs holds the record; false while the index came from a
	// snapshot and the record was not needed yet.
	loaded bool
	cur    atomic.Pointer[snapshot]
	// storeGen is the store generation the index reflects.
	storeGen int64
	// exact: sgs is exactly the record at storeGen (read together, or
	// our own write right after it), so the index may be saved as the
	// snapshot of storeGen.
	exact bool
	gen   atomic.Int64
	opts  Options
}

// Options configure an Inventory.
type Options struct {
	Logger   *slog.Logger
	Derivers []Deriver
	// SnapshotKey names everything besides the record that the index
	// depends on (the derivers' inputs: owner corrections, the program
	// version). A snapshot is used only when its key equals this one.
	SnapshotKey string
}

// snapshotStore is a store that keeps an index snapshot (graph/store).
type snapshotStore interface {
	Snapshots() bool
	Generation(ctx context.Context) (int64, error)
	ReadSnapshot(ctx context.Context) ([]byte, error)
	WriteSnapshot(ctx context.Context, write func(io.Writer) error) error
}

// generationLoader loads the record together with its generation.
type generationLoader interface {
	LoadGeneration(ctx context.Context) ([]*graph.Subgraph, int64, error)
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
// rebuilds the index, from the store's snapshot when it matches.
func (inv *Inventory) Reload(ctx context.Context) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.openSnapshotLocked(ctx) {
		return nil
	}
	if err := inv.loadLocked(ctx); err != nil {
		return err
	}
	inv.rebuild()
	inv.saveSnapshotLocked(ctx)
	return nil
}

// OpenRecord is Open for a caller that has just written the whole record
// itself (a load or demo into a store that held nothing else): sgs are
// exactly the record at store generation gen, so the index is built from
// them without re-reading the store, and saved as its snapshot. When the
// store's generation is no longer gen (another writer), it falls back to
// Open.
func OpenRecord(ctx context.Context, st Store, opts Options, sgs []*graph.Subgraph, gen int64) (*Inventory, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	inv := &Inventory{store: st, derive: opts.Derivers, log: opts.Logger, sgs: map[string]*graph.Subgraph{}, opts: opts}
	g, ok := st.(generationer)
	if !ok {
		return Open(ctx, st, opts)
	}
	if cur, err := g.Generation(ctx); err != nil || cur != gen {
		return Open(ctx, st, opts)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for _, sg := range sgs {
		sg.Normalize()
		inv.sgs[sg.Source] = sg
	}
	inv.loaded, inv.exact, inv.storeGen = true, true, gen
	inv.rebuild()
	inv.saveSnapshotLocked(ctx)
	return inv, nil
}

// loadLocked reads the whole record into inv.sgs.
func (inv *Inventory) loadLocked(ctx context.Context) error {
	var (
		sgs []*graph.Subgraph
		err error
	)
	if gl, ok := inv.store.(generationLoader); ok {
		var g int64
		sgs, g, err = gl.LoadGeneration(ctx)
		if err == nil {
			inv.storeGen, inv.exact = g, true
		}
	} else {
		// Read the generation before the data: a write landing in
		// between is then seen as a change by the next
		// RefreshIfChanged, never missed.
		inv.noteGeneration(ctx)
		inv.exact = false
		sgs, err = inv.store.Load(ctx)
	}
	if err != nil {
		return fmt.Errorf("inventory: load store: %w", err)
	}
	m := make(map[string]*graph.Subgraph, len(sgs))
	for _, sg := range sgs {
		m[sg.Source] = sg
	}
	inv.sgs = m
	inv.loaded = true
	return nil
}

// ensureLoadedLocked reads the record if the index came from a snapshot.
// The snapshot's index stays when the record is still at its generation.
func (inv *Inventory) ensureLoadedLocked(ctx context.Context) error {
	if inv.loaded {
		return nil
	}
	was := inv.storeGen
	if err := inv.loadLocked(ctx); err != nil {
		return err
	}
	if inv.exact && inv.storeGen == was {
		base := inv.subgraphsLocked()
		inv.cur.Store(&snapshot{ix: inv.cur.Load().ix, all: inv.derived(base)})
		return nil
	}
	inv.rebuild()
	inv.saveSnapshotLocked(ctx)
	return nil
}

// openSnapshotLocked swaps in the store's snapshot if it is current.
func (inv *Inventory) openSnapshotLocked(ctx context.Context) bool {
	ss, ok := inv.store.(snapshotStore)
	if !ok || !ss.Snapshots() {
		return false
	}
	g, err := ss.Generation(ctx)
	if err != nil {
		return false
	}
	data, err := ss.ReadSnapshot(ctx)
	if err != nil || data == nil {
		if err != nil {
			inv.log.Warn("index snapshot not readable; rebuilding from the record", "err", err)
		}
		return false
	}
	tag, err := graph.ReadSnapshotTag(data)
	if err != nil || tag.Generation != g || tag.Key != inv.opts.SnapshotKey {
		inv.log.Debug("index snapshot stale; rebuilding from the record", "generation", g, "snapshot", tag.Generation, "err", err)
		return false
	}
	// Opening allocates the nodes in one burst proportional to the
	// snapshot's size; collecting during it only re-marks what was just
	// built (it halves a fresh `ask`), so collection waits until done.
	gc := debug.SetGCPercent(-1)
	ix, _, err := graph.OpenSnapshot(data)
	debug.SetGCPercent(gc)
	if err != nil {
		inv.log.Warn("index snapshot damaged; rebuilding from the record", "err", err)
		return false
	}
	inv.sgs, inv.loaded, inv.exact, inv.storeGen = nil, false, false, g
	inv.cur.Store(&snapshot{ix: ix})
	inv.gen.Add(1)
	return true
}

// saveSnapshotLocked writes the current index as the snapshot of
// storeGen, when the index is exactly the record at that generation. A
// failure only costs the next process a rebuild.
func (inv *Inventory) saveSnapshotLocked(ctx context.Context) {
	ss, ok := inv.store.(snapshotStore)
	if !ok || !ss.Snapshots() || !inv.exact {
		return
	}
	ix := inv.cur.Load().ix
	tag := graph.SnapshotTag{Generation: inv.storeGen, Key: inv.opts.SnapshotKey}
	if err := ss.WriteSnapshot(ctx, func(w io.Writer) error { return ix.WriteSnapshot(w, tag) }); err != nil {
		inv.log.Warn("index snapshot not written", "err", err)
	}
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
	if err := inv.ensureLoadedLocked(ctx); err != nil {
		return fmt.Errorf("inventory: replace: %w", err)
	}
	if err := inv.store.Replace(ctx, sgs...); err != nil {
		return fmt.Errorf("inventory: replace: %w", err)
	}
	for _, sg := range sgs {
		c := *sg
		c.Normalize()
		inv.sgs[sg.Source] = &c
	}
	was, exact := inv.storeGen, inv.exact
	inv.noteGeneration(ctx)
	// Our write is the only one since the record we hold: the index is
	// exactly the record at the new generation.
	inv.exact = exact && inv.storeGen == was+1
	inv.rebuild()
	inv.saveSnapshotLocked(ctx)
	return nil
}

func (inv *Inventory) rebuild() {
	all := inv.derived(inv.subgraphsLocked())
	inv.cur.Store(&snapshot{ix: graph.Build(all), all: all})
	inv.gen.Add(1)
	inv.log.Debug("index rebuilt", "sources", len(all))
}

// derived is base followed by what the derivers compute from it.
func (inv *Inventory) derived(base []*graph.Subgraph) []*graph.Subgraph {
	all := base
	for _, d := range inv.derive {
		all = append(all, d(base)...)
	}
	return all
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
// After an open from a snapshot the first call reads the record.
func (inv *Inventory) Subgraphs() []*graph.Subgraph {
	sgs, err := inv.SubgraphsContext(context.Background())
	if err != nil {
		inv.log.Error("record not readable", "err", err)
	}
	return sgs
}

// SubgraphsContext is Subgraphs that reports a failure to read the record.
func (inv *Inventory) SubgraphsContext(ctx context.Context) ([]*graph.Subgraph, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err := inv.ensureLoadedLocked(ctx); err != nil {
		return nil, err
	}
	return inv.subgraphsLocked(), nil
}

// All returns the subgraphs the current index was built from: the stored
// ones and the derived ones. After an open from a snapshot the first call
// reads the record.
func (inv *Inventory) All() []*graph.Subgraph {
	all, err := inv.AllContext(context.Background())
	if err != nil {
		inv.log.Error("record not readable", "err", err)
	}
	return all
}

// AllContext is All that reports a failure to read the record.
func (inv *Inventory) AllContext(ctx context.Context) ([]*graph.Subgraph, error) {
	if s := inv.cur.Load(); s.all != nil || inv.isLoaded() {
		return s.all, nil
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err := inv.ensureLoadedLocked(ctx); err != nil {
		return nil, err
	}
	return inv.cur.Load().all, nil
}

func (inv *Inventory) isLoaded() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.loaded
}

// FromSnapshot reports whether the current index was opened from the
// store's snapshot rather than built in this process.
func (inv *Inventory) FromSnapshot() bool { return inv.Index().FromSnapshot() }

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
