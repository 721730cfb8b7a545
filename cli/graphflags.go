package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/links"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/graph/store"
	"github.com/steward-oss/steward/internal/demo"
)

// DefaultGraph is the bolt file used when neither --demo nor --graph is
// given.
const DefaultGraph = "./steward.db"

// DefaultOwners is the owner-corrections file used when --owners is not
// given; a missing file means no corrections.
const DefaultOwners = "./steward-owners.json"

// Demo defaults: small enough to answer in well under a second, large
// enough to hold every kind of case.
const (
	defaultDemoSeed = 1
	defaultDemoSize = 2000
)

// graphFlags are the flags of every command that reads the graph.
type graphFlags struct {
	demo  bool
	path  string
	seed  int64
	size  int
	now   string
	nowAt time.Time
	// overrides is the owner-corrections file (steward owner set).
	overrides string
}

func (g *graphFlags) register(fs *flag.FlagSet, withNow bool) {
	fs.BoolVar(&g.demo, "demo", false, "use the built-in demo organisation (in memory; no keys, no servers)")
	fs.StringVar(&g.path, "graph", "", "graph store: a bolt file path, or postgres://... (default "+DefaultGraph+")")
	fs.StringVar(&g.overrides, "owners", DefaultOwners, "owner corrections file (see steward owner)")
	fs.Int64Var(&g.seed, "seed", defaultDemoSeed, "demo generator seed (with --demo)")
	fs.IntVar(&g.size, "size", defaultDemoSize, "demo size in non-human identities (with --demo)")
	if withNow {
		fs.StringVar(&g.now, "now", "", "reference time, RFC 3339 (default: now; with --demo the demo's reference time)")
	}
}

// validate checks flag combinations and resolves --now.
func (g *graphFlags) validate() error {
	if g.demo && g.path != "" {
		return fmt.Errorf("--demo and --graph are exclusive")
	}
	if g.size <= 0 {
		return fmt.Errorf("--size must be positive")
	}
	switch {
	case g.now != "":
		t, err := time.Parse(time.RFC3339, g.now)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		g.nowAt = t.UTC()
	case g.demo:
		g.nowAt = demo.Reference
	default:
		g.nowAt = time.Now().UTC()
	}
	return nil
}

func (g *graphFlags) storeURI() string {
	if g.demo {
		return "memory"
	}
	if g.path == "" {
		return DefaultGraph
	}
	return g.path
}

// open opens the graph the flags name; with --demo it generates the demo
// organisation into an in-memory store.
func (g *graphFlags) open(ctx context.Context, e *env) (*inventory.Inventory, error) {
	uri := g.storeURI()
	if !g.demo && g.path == "" {
		// --config / STEWARD_CONFIG, STEWARD_GRAPH, then the default.
		var err error
		if uri, err = e.defaultGraph(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	inv, err := inventory.Open(ctx, st, inventory.Options{Logger: e.log, Derivers: derivers(e, g.overrides), SnapshotKey: snapshotKey(g.overrides)})
	if err != nil {
		st.Close()
		return nil, err
	}
	if g.demo {
		sgs := demo.Generate(demo.Config{Seed: g.seed, Size: g.size})
		if err := inv.Replace(ctx, sgs...); err != nil {
			inv.Close()
			return nil, fmt.Errorf("load demo: %w", err)
		}
	}
	return inv, nil
}

// writeSnapshot builds the index of what st now holds and stores it as
// the snapshot the next `ask` opens, so the first question after a load
// does not pay for the rebuild. When the caller's write (sgs, which moved
// the store from generation before) is the whole record, the index is
// built from sgs; otherwise from the record. The record is already
// committed: a failure here costs only speed, and is reported as a
// warning.
func writeSnapshot(ctx context.Context, e *env, st *store.Store, overridesPath string, sgs []*graph.Subgraph, before int64, writes int) {
	if !st.Snapshots() {
		return
	}
	opts := inventory.Options{Logger: e.log, Derivers: derivers(e, overridesPath), SnapshotKey: snapshotKey(overridesPath)}
	var err error
	if whole, gen := wholeRecord(ctx, st, sgs, before, writes); whole {
		_, err = inventory.OpenRecord(ctx, st, opts, sgs, gen)
	} else {
		// Open rebuilds and writes the snapshot when the stored one is
		// stale; the store stays open for the caller to close.
		_, err = inventory.Open(ctx, st, opts)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: index snapshot not written: %v\n", err)
	}
}

// wholeRecord reports whether sgs are everything st holds, written by
// this process alone since generation before in writes replaces, and the
// generation they are at.
func wholeRecord(ctx context.Context, st *store.Store, sgs []*graph.Subgraph, before int64, writes int) (bool, int64) {
	if before < 0 || len(sgs) == 0 {
		return false, 0
	}
	srcs, err := st.Sources(ctx)
	if err != nil || len(srcs) != len(sgs) {
		return false, 0
	}
	have := map[string]bool{}
	for _, sg := range sgs {
		have[sg.Source] = true
	}
	for _, si := range srcs {
		if !have[si.Source] {
			return false, 0
		}
	}
	gen, err := st.Generation(ctx)
	if err != nil || gen != before+int64(writes) {
		return false, 0
	}
	return true, gen
}

// derivers are the derivation steps run on every index rebuild: owner
// inference, with the analysts' corrections from overridesPath re-applied
// each time so they survive re-syncs; and the links between sources
// (GitHub Actions OIDC).
func derivers(e *env, overridesPath string) []inventory.Deriver {
	return []inventory.Deriver{func(sgs []*graph.Subgraph) []*graph.Subgraph {
		var overrides []ownership.Override
		if overridesPath != "" {
			var err error
			if overrides, err = ownership.NewStore(overridesPath).List(); err != nil {
				e.log.Warn("owner overrides not applied", "path", overridesPath, "err", err)
			}
		}
		// Stored owns edges (a source that names owners itself) stay as
		// they are; inference adds to them under its own source name.
		in := make([]*graph.Subgraph, 0, len(sgs))
		for _, sg := range sgs {
			if sg.Source != inferredSource {
				in = append(in, sg)
			}
		}
		sg, _ := ownership.Infer(in, overrides)
		sg.Source = inferredSource
		for i := range sg.Nodes {
			sg.Nodes[i].Source = inferredSource
		}
		return []*graph.Subgraph{sg}
	}, links.GitHubOIDC}
}

// snapshotKey names what an index depends on besides the record: the
// program (its derivation rules) and the owner corrections. A stored
// snapshot with another key is rebuilt.
func snapshotKey(overridesPath string) string {
	h := sha256.New()
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(h, "%s %s\n", bi.Main.Path, bi.Main.Version)
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				fmt.Fprintf(h, "%s=%s\n", s.Key, s.Value)
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		// Development builds carry no revision; the binary's identity
		// (size and time) stands in for it.
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "exe %d %d\n", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	if overridesPath != "" {
		b, err := os.ReadFile(overridesPath)
		fmt.Fprintf(h, "owners %t %d\n", err == nil, len(b))
		h.Write(b)
	}
	return "cli/" + hex.EncodeToString(h.Sum(nil))
}

// inferredSource names the derived owner subgraph.
const inferredSource = "ownership:inferred"
