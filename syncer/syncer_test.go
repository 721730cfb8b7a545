package syncer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/graphfile"
	"github.com/steward-oss/steward/graph"
)

type recorder struct {
	got  []*graph.Subgraph
	fail bool
}

func (r *recorder) Replace(_ context.Context, sgs ...*graph.Subgraph) error {
	if r.fail {
		return errors.New("disk full")
	}
	r.got = append(r.got, sgs...)
	return nil
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(good, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one"}`+"\n"), 0o600)
	os.WriteFile(bad, []byte(`{"type":"node","id":"y:1","kind":"bot","source":"y"}`+"\n{\"type\":\n"), 0o600)
	cs := []config.Connector{
		{Name: "bad", Type: "graph", Options: map[string]string{"from": bad}},
		{Name: "good", Type: "graph", Options: map[string]string{"from": good}},
		{Name: "unknown", Type: "nope"},
	}
	rec := &recorder{}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res := Run(context.Background(), cs, rec, connectors.Env{}, func() time.Time { clock = clock.Add(time.Second); return clock })
	if len(res) != 3 {
		t.Fatalf("results %d", len(res))
	}
	if !strings.Contains(res[0].Error, "bad.jsonl:2") {
		t.Errorf("bad file error %q does not name file:line", res[0].Error)
	}
	if res[1].Error != "" || res[1].Nodes != 1 || res[1].Sources[0] != "x" {
		t.Errorf("good result %+v", res[1])
	}
	if !strings.Contains(res[2].Error, "unknown connector") {
		t.Errorf("unknown: %q", res[2].Error)
	}
	if len(rec.got) != 1 || rec.got[0].Source != "x" {
		t.Errorf("only the good source is stored, got %d", len(rec.got))
	}
	rec.fail = true
	res = Run(context.Background(), cs[1:2], rec, connectors.Env{}, time.Now)
	if !strings.Contains(res[0].Error, "disk full") {
		t.Errorf("store failure not reported: %+v", res[0])
	}
}
