package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/audit"
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

func TestSync(t *testing.T) {
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
	res := Sync(context.Background(), cs, rec, connectors.Env{}, func() time.Time { clock = clock.Add(time.Second); return clock })
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
	res = Sync(context.Background(), cs[1:2], rec, connectors.Env{}, time.Now)
	if !strings.Contains(res[0].Error, "disk full") {
		t.Errorf("store failure not reported: %+v", res[0])
	}
}

type brokenAudit struct{}

func (b *brokenAudit) Append(_ context.Context, rec audit.Record) (audit.Record, error) {
	return audit.Record{}, errors.New("audit log on a full disk")
}

// Issue 12, fail closed: a scheduled sync whose audit record cannot be
// written fails and leaves the graph as it was (it used to replace the
// sources and only warn).
func TestSyncAuditedFailsClosed(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"one"}`+"\n"), 0o600)
	cs := []config.Connector{{Name: "good", Type: "graph", Options: map[string]string{"from": good}}}

	rec := &recorder{}
	res := SyncAudited(context.Background(), cs, rec, connectors.Env{}, time.Now, &brokenAudit{}, audit.WhereScheduler)
	if len(rec.got) != 0 {
		t.Errorf("graph replaced although the sync could not be audited")
	}
	if !strings.Contains(res[0].Error, "audit") || !strings.Contains(res[0].Error, "full disk") {
		t.Errorf("error %q does not say the audit failed", res[0].Error)
	}

	path := filepath.Join(dir, "audit.log")
	alog, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	res = SyncAudited(context.Background(), cs, rec, connectors.Env{}, time.Now, alog, audit.WhereScheduler)
	if res[0].Error != "" || len(rec.got) != 1 {
		t.Fatalf("audited sync: %+v, %d replaced", res[0], len(rec.got))
	}
	rec.fail = true
	res = SyncAudited(context.Background(), cs, rec, connectors.Env{}, time.Now, alog, audit.WhereScheduler)
	if !strings.Contains(res[0].Error, "disk full") {
		t.Errorf("replace failure: %+v", res[0])
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outcome":"loaded"`, `"outcome":"failed"`, `disk full`, `"action":"sync"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("audit log lacks %s:\n%s", want, data)
		}
	}
}
