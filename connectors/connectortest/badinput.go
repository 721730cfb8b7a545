package connectortest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/graph/store"
)

// New builds the registered connector typ, failing t when the options
// are refused.
func New(t testing.TB, typ string, opts connectors.Options, env connectors.Env) connectors.Reader {
	t.Helper()
	r, err := connectors.New(typ, opts, env)
	if err != nil {
		t.Fatalf("new %s reader: %v", typ, err)
	}
	return r
}

// Fixture is a connector's export directory and how the connector is
// pointed at it, so a runner can break a copy of it and load both.
type Fixture struct {
	// Type is the connector's registered name.
	Type string
	// Dir is the export directory under testdata.
	Dir string
	// Options points the connector at a directory (Dir or a copy).
	Options func(dir string) connectors.Options
	Env     connectors.Env
}

func (f Fixture) reader(t testing.TB, dir string) connectors.Reader {
	t.Helper()
	return New(t, f.Type, f.Options(dir), f.Env)
}

// InvalidUTF8 puts a byte that is not UTF-8 after the first occurrence of
// after in file (relative to the fixture directory) of a copy, and checks
// that the read fails naming the file and the byte offset, and that a
// sync of the broken copy leaves the graph the good one loaded.
func InvalidUTF8(t *testing.T, f Fixture, file, after string) {
	t.Helper()
	dir := CopyDir(t, f.Dir)
	path := filepath.Join(dir, file)
	off := Corrupt(t, path, after, after+"\xff")
	want := []string{path, "invalid UTF-8", "offset " + strconv.Itoa(off+len(after))}
	Bad(t, f.reader(t, dir), want...)
	KeepsGraph(t, f.Type, f.Env, f.Options(f.Dir), f.Options(dir), want...)
}

// DirEntries is BadDirEntries over the fixture, and each broken copy,
// synced after the good one, leaves the graph as it was.
func DirEntries(t *testing.T, f Fixture) {
	t.Helper()
	BadDirEntries(t, f.Dir, func(t *testing.T, dir string) connectors.Reader {
		KeepsGraph(t, f.Type, f.Env, f.Options(f.Dir), f.Options(dir))
		return f.reader(t, dir)
	})
}

// KeepsGraph syncs connector typ with good options into an in-memory
// store, then with bad ones, through inventory.Sync as `steward load`
// and serve do: the second sync must fail, naming each of want, and
// leave the graph the first one loaded.
func KeepsGraph(t testing.TB, typ string, env connectors.Env, good, bad connectors.Options, want ...string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "memory")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv, err := inventory.Open(ctx, st, inventory.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	if env.Logger == nil {
		env.Logger = quiet
	}
	sync := func(opts connectors.Options) inventory.SyncResult {
		return inventory.Sync(ctx, []config.Connector{{Name: typ, Type: typ, Options: opts}}, inv, env, time.Now)[0]
	}
	if res := sync(good); res.Error != "" {
		t.Fatalf("sync of the good input: %s", res.Error)
	}
	before := graphJSON(t, inv)
	res := sync(bad)
	if res.Error == "" {
		t.Fatal("sync of the bad input succeeded")
	}
	for _, w := range want {
		if !strings.Contains(res.Error, w) {
			t.Errorf("sync error %q does not mention %q", res.Error, w)
		}
	}
	if graphJSON(t, inv) != before {
		t.Error("a failed sync changed the graph; the previous graph must stay intact")
	}
}

func graphJSON(t testing.TB, inv *inventory.Inventory) string {
	t.Helper()
	sgs := inv.Subgraphs()
	if len(sgs) == 0 {
		t.Fatal("the inventory holds no graph")
	}
	b, err := json.Marshal(sgs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Broken is an export directory written whole from Files (path relative
// to the directory → content), broken one way; Want is what the error
// must name.
type Broken struct {
	Name  string
	Files map[string]string
	Want  []string
}

// BadFiles writes each case into an empty directory and checks that the
// read fails naming each of Want, and that a sync of it after the good
// fixture leaves the good graph intact.
func BadFiles(t *testing.T, f Fixture, cases []Broken) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range c.Files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			Bad(t, f.reader(t, dir), c.Want...)
			KeepsGraph(t, f.Type, f.Env, f.Options(f.Dir), f.Options(dir), c.Want...)
		})
	}
}
