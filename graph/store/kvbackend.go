package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/cayleygraph/cayley/graph"
	ckv "github.com/cayleygraph/cayley/graph/kv"
	"github.com/cayleygraph/cayley/graph/memstore"
	"github.com/cayleygraph/quad"
	hkv "github.com/hidal-go/hidalgo/kv"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// cayleyBackend reads through cayley's iterators. It serves the memory
// and bolt stores, which only this process can write (bolt holds an
// exclusive file lock), so Store.mu makes its several reads consistent.
type cayleyBackend struct {
	qs graph.QuadStore
	// group is the bolt KV under a kv quad store, nil for memstore.
	group *groupKV
	// labelIndexed: the kv store maintains labelIndex.
	labelIndexed bool
	// reopen, when set, replaces qs with a fresh handle over the same
	// data. The kv quad store caches node ids while it writes and keeps
	// them when the transaction rolls back; a fresh handle drops them.
	reopen  func() (graph.QuadStore, error)
	closeFn func() error
}

// groupKV lets several cayley ApplyDeltas calls share one bolt
// transaction. cayley v0.7.7's kv store cannot take adds and deletes in
// one ApplyDeltas: a quad added in the same call that lowers the
// reference count of one of its values (a node losing two properties and
// gaining one, a source label whose source shrinks) is written with that
// value missing. Adds alone and deletes alone are handled correctly, so
// the store applies them as two calls, and groupKV makes both run inside
// one outer bolt transaction that commits once: atomic as before.
type groupKV struct {
	hkv.KV
	outer hkv.Tx // non-nil while a grouped write runs (under Store.mu)
}

func (g *groupKV) Tx(rw bool) (hkv.Tx, error) {
	if g.outer != nil {
		return innerTx{g.outer}, nil
	}
	return g.KV.Tx(rw)
}

// innerTx is the outer transaction as seen by one ApplyDeltas: its
// commit and rollback are left to the group.
type innerTx struct{ hkv.Tx }

func (innerTx) Commit(context.Context) error { return nil }
func (innerTx) Close() error                 { return nil }

var _ backend = (*cayleyBackend)(nil)

func newMemBackend() *cayleyBackend {
	qs := memstore.New()
	return &cayleyBackend{qs: qs, closeFn: qs.Close}
}

// boltFile is the database file inside a bolt store directory; cayley's
// own bolt backend uses the same name and file format.
const boltFile = "indexes.bolt"

// boltMmapSize is bolt's initial memory map. Bolt remaps, copying every
// dirty node, each time the file outgrows the map; mapping 1 GiB of
// address space up front (not memory) avoids that during big loads.
const boltMmapSize = 1 << 30

// boltLockTimeout bounds the wait for another process's lock on the file.
const boltLockTimeout = time.Second

func openBolt(dir string) (*cayleyBackend, error) {
	if dir == "" {
		return nil, errors.New("store: open bolt: empty path")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: open bolt %s: %w", dir, err)
	}
	path := filepath.Join(dir, boltFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: boltLockTimeout, InitialMmapSize: boltMmapSize})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open bolt %s: locked by another process", path)
		}
		return nil, fmt.Errorf("store: open bolt %s: %w", path, err)
	}
	removeStaleBulk(dir)
	b, err := openKV(&boltKV{db: db})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open bolt %s: %w", path, err)
	}
	return b, nil
}

// kvOptions configures cayley's kv quad store. The duplicate-detection
// bloom filter is sized for 100M quads (about 70 MB) whenever a store is
// opened empty; the store reads before every write and never asks cayley
// to add a quad that exists, so the filter buys little and is disabled.
var kvOptions = graph.Options{ckv.OptNoBloom: true}

// openKV opens a cayley kv quad store over db, initialising an empty one.
// Tests use it to put a fault-injecting KV under the store.
func openKV(db hkv.KV) (*cayleyBackend, error) {
	g := &groupKV{KV: db}
	err := ckv.Init(g, kvOptions)
	switch {
	case err == nil:
		if err := addLabelIndex(g); err != nil {
			return nil, fmt.Errorf("initialise: %w", err)
		}
	case !errors.Is(err, graph.ErrDatabaseExists):
		return nil, fmt.Errorf("initialise: %w", err)
	}
	indexed, err := hasLabelIndex(g)
	if err != nil {
		return nil, err
	}
	open := func() (graph.QuadStore, error) { return ckv.New(g, kvOptions) }
	qs, err := open()
	if err != nil {
		return nil, err
	}
	return &cayleyBackend{qs: qs, group: g, labelIndexed: indexed, reopen: open, closeFn: db.Close}, nil
}

// createValueBuckets creates, inside tx and in key order, the buckets
// cayley's kv store will put the values of adds in. cayley spreads node
// ids and reference counts over 2×65,536 top-level buckets named 'v' or
// 'n' and the first two bytes of the value's hash, and creates each when
// it first needs it. A first big load creates tens of thousands of them
// in hash order inside its one transaction, and every creation shifts
// the root's in-memory leaf: quadratic, more than half the CPU of a
// 100k-quad load. In key order each one is appended. (cayley's "upfront"
// option creates all of them when the file is made, interleaving the two
// families over 256 transactions: quadratic again and 256 fsyncs, about
// a second for every fresh store.)
func createValueBuckets(ctx context.Context, tx hkv.Tx, adds []graph.Delta) error {
	var seen [1 << 16]bool
	var prefixes []int
	var h [quad.HashSize]byte
	for _, d := range adds {
		for _, v := range []quad.Value{d.Quad.Subject, d.Quad.Predicate, d.Quad.Object, d.Quad.Label} {
			if v == nil {
				continue
			}
			quad.HashTo(v, h[:])
			p := int(h[0])<<8 | int(h[1])
			if !seen[p] {
				seen[p] = true
				prefixes = append(prefixes, p)
			}
		}
	}
	sort.Ints(prefixes)
	for _, fam := range []byte{'n', 'v'} {
		for _, p := range prefixes {
			if err := hkv.CreateBucket(ctx, tx, hkv.Key{{fam, byte(p >> 8), byte(p)}}); err != nil {
				return fmt.Errorf("create value bucket: %w", err)
			}
		}
	}
	return nil
}

// kvIndexesKey is where cayley's kv store keeps the list of its quad
// indexes; New reads it back, and every write maintains each index in it.
var kvIndexesKey = hkv.Key{[]byte("meta"), []byte("indexes")}

// labelIndex lets the kv store find a source's quads (its label) without
// scanning the whole store. Label alone would make each index entry the
// list of every quad of a source, which cayley decodes on every
// duplicate check; {label, subject, predicate} keeps entries small, and a
// label prefix scan still lists the source.
var labelIndex = ckv.QuadIndex{Dirs: []quad.Direction{quad.Label, quad.Subject, quad.Predicate}}

// addLabelIndex adds labelIndex to a freshly initialised kv store, before
// any quad is written. cayley offers custom indexes only through an
// environment variable it cannot actually decode in v0.7.7, so the store
// writes the index list itself, in the format cayley's Init writes.
func addLabelIndex(db hkv.KV) error {
	data, err := json.Marshal(append(append([]ckv.QuadIndex(nil), ckv.DefaultQuadIndexes...), labelIndex))
	if err != nil {
		return err
	}
	return hkv.Update(context.Background(), db, func(tx hkv.Tx) error { return tx.Put(kvIndexesKey, data) })
}

// hasLabelIndex reports whether the store maintains labelIndex; stores
// created before it existed do not, and are scanned instead.
func hasLabelIndex(db hkv.KV) (bool, error) {
	var found bool
	err := hkv.View(db, func(tx hkv.Tx) error {
		data, err := tx.Get(context.Background(), kvIndexesKey)
		if errors.Is(err, hkv.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		var inds []ckv.QuadIndex
		if err := json.Unmarshal(data, &inds); err != nil {
			return fmt.Errorf("decode index list: %w", err)
		}
		for _, ind := range inds {
			if reflect.DeepEqual(ind.Dirs, labelIndex.Dirs) {
				found = true
			}
		}
		return nil
	})
	return found, err
}

func (b *cayleyBackend) apply(ctx context.Context, deltas []graph.Delta) error {
	if b.group == nil {
		// memstore checks every delta before it changes anything.
		return b.qs.ApplyDeltas(deltas, graph.IgnoreOpts{})
	}
	var adds, dels []graph.Delta
	for _, d := range deltas {
		if d.Action == graph.Add {
			adds = append(adds, d)
		} else {
			dels = append(dels, d)
		}
	}
	outer, err := b.group.KV.Tx(true)
	if err != nil {
		return err
	}
	b.group.outer = outer
	if len(adds) > 0 {
		err = createValueBuckets(ctx, outer, adds)
	}
	if err == nil && len(adds) > 0 {
		err = b.qs.ApplyDeltas(adds, graph.IgnoreOpts{})
	}
	if err == nil && len(dels) > 0 {
		err = b.qs.ApplyDeltas(dels, graph.IgnoreOpts{})
	}
	b.group.outer = nil
	if err == nil {
		err = outer.Commit(ctx) // bolt rolls back itself when Commit fails
	} else {
		outer.Close()
	}
	if err != nil {
		qs, rerr := b.reopen()
		if rerr != nil {
			return errors.Join(err, fmt.Errorf("reopen after failed write: %w", rerr))
		}
		b.qs = qs
	}
	return err
}

// applyAdds writes adds, into a kv store, as one transaction of its own.
func (b *cayleyBackend) applyAdds(ctx context.Context, adds []graph.Delta, opts graph.IgnoreOpts) error {
	outer, err := b.group.KV.Tx(true)
	if err != nil {
		return err
	}
	b.group.outer = outer
	err = createValueBuckets(ctx, outer, adds)
	if err == nil {
		err = b.qs.ApplyDeltas(adds, opts)
	}
	b.group.outer = nil
	if err == nil {
		err = outer.Commit(ctx)
	} else {
		outer.Close()
	}
	if err != nil {
		if qs, rerr := b.reopen(); rerr == nil {
			b.qs = qs
		}
	}
	return err
}

func (b *cayleyBackend) lock(context.Context) (func(), error) { return func() {}, nil }

// conflict is always false: only this process writes, under Store.mu, so
// a missing or duplicate quad is a real error, not a lost race.
func (b *cayleyBackend) conflict(error) bool { return false }

func (b *cayleyBackend) close() error { return b.closeFn() }

func (b *cayleyBackend) read(ctx context.Context, labels []quad.Value) ([]quad.Quad, error) {
	var refs []graph.Ref
	collect := func(it graph.Iterator, keep func(graph.Ref) bool) error {
		defer it.Close()
		for it.Next(ctx) {
			if r := it.Result(); keep == nil || keep(r) {
				refs = append(refs, r)
			}
		}
		return it.Err()
	}
	switch {
	case labels == nil:
		if err := collect(b.qs.QuadsAllIterator(), nil); err != nil {
			return nil, err
		}
	case b.group == nil || b.labelIndexed:
		// memstore indexes labels, and so do kv stores this package
		// created.
		for _, l := range labels {
			ref := b.qs.ValueOf(l)
			if ref == nil {
				continue // no quad has ever used this label
			}
			if err := collect(b.qs.QuadIterator(quad.Label, ref), nil); err != nil {
				return nil, err
			}
		}
	default:
		// a kv store without labelIndex: a per-label iterator would be a
		// full scan each, so scan once and keep the wanted labels.
		want := map[graph.Ref]bool{}
		for _, l := range labels {
			if ref := b.qs.ValueOf(l); ref != nil {
				want[ref] = true
			}
		}
		if len(want) > 0 {
			keep := func(r graph.Ref) bool { return want[b.qs.QuadDirection(r, quad.Label)] }
			if err := collect(b.qs.QuadsAllIterator(), keep); err != nil {
				return nil, err
			}
		}
	}
	return b.resolve(ctx, refs)
}

// readMeta finds the meta quads through the subject index: the store
// quad, which names every source, then each source's quads. Generation
// and Sources are polled, so they must not scan the whole store.
func (b *cayleyBackend) readMeta(ctx context.Context) ([]quad.Quad, error) {
	bySubject := func(subj quad.Value) ([]quad.Quad, error) {
		ref := b.qs.ValueOf(subj)
		if ref == nil {
			return nil, nil
		}
		var refs []graph.Ref
		it := b.qs.QuadIterator(quad.Subject, ref)
		defer it.Close()
		for it.Next(ctx) {
			refs = append(refs, it.Result())
		}
		if err := it.Err(); err != nil {
			return nil, err
		}
		qs, err := b.resolve(ctx, refs)
		if err != nil {
			return nil, err
		}
		out := qs[:0]
		for _, q := range qs {
			if q.Label == metaLabel {
				out = append(out, q)
			}
		}
		return out, nil
	}
	out, err := bySubject(metaStore)
	if err != nil {
		return nil, err
	}
	for _, q := range out {
		if q.Predicate != predSource {
			continue
		}
		more, err := bySubject(q.Object)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// resolve turns quad refs into quads.
func (b *cayleyBackend) resolve(ctx context.Context, refs []graph.Ref) ([]quad.Quad, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Resolve each distinct value once, in one batch where the backend
	// supports it (kv does: one read transaction instead of one per quad).
	index := map[graph.Ref]int{}
	var uniq []graph.Ref
	dirRefs := make([][4]int, len(refs))
	for i, r := range refs {
		for j, d := range quad.Directions {
			v := b.qs.QuadDirection(r, d)
			if v == nil {
				dirRefs[i][j] = -1
				continue
			}
			k, ok := index[v]
			if !ok {
				k = len(uniq)
				index[v] = k
				uniq = append(uniq, v)
			}
			dirRefs[i][j] = k
		}
	}
	vals, err := graph.ValuesOf(ctx, b.qs, uniq)
	if err != nil {
		return nil, err
	}
	out := make([]quad.Quad, len(refs))
	for i := range refs {
		for j, d := range quad.Directions {
			k := dirRefs[i][j]
			if k < 0 {
				continue
			}
			if vals[k] == nil {
				return nil, fmt.Errorf("%w: quad refers to a value that is not stored", ErrCorrupt)
			}
			out[i].Set(d, vals[k])
		}
	}
	return out, nil
}
