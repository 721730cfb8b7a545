package server

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

func TestIdentityRoute(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, id  string
		status    int
		priv      string
		owner     string
		creds     int
		minGrants int
	}{
		// ci-deployer: admin through the admins group, its owner Bob left.
		{"admin with a departed owner", "aws:111111111111:user/ci-deployer", 200, "admin", "departed", 1, 1},
		// backup-agent: read through an attached policy (an edge pointing in).
		{"policy attached to it", "aws:111111111111:user/backup-agent", 200, "read", "present", 1, 1},
		{"unknown", "aws:111111111111:user/nobody", 404, "", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := do(t, ts, "GET", "/v1/identities/"+url.PathEscape(tt.id), "foo", "")
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if status != 200 {
				return
			}
			if got := body["node"].(map[string]any)["id"]; got != tt.id {
				t.Errorf("node id %v", got)
			}
			if body["privilege"] != tt.priv || body["owner_status"] != tt.owner {
				t.Errorf("privilege %v owner %v", body["privilege"], body["owner_status"])
			}
			if n := len(body["credentials"].([]any)); n != tt.creds {
				t.Errorf("credentials %d, want %d", n, tt.creds)
			}
			if n := len(body["grants"].([]any)); n < tt.minGrants {
				t.Errorf("grants %d, want at least %d", n, tt.minGrants)
			}
			if tt.priv == "admin" && len(body["privilege_path"].([]any)) == 0 {
				t.Error("admin without its privilege path")
			}
		})
	}
	if status, _, _ := do(t, ts, "GET", "/v1/identities/x", "", ""); status != 401 {
		t.Errorf("without a key: %d", status)
	}
}

func TestOverviewRoute(t *testing.T) {
	ts := newTestServer(t)
	status, body, _ := do(t, ts, "GET", "/v1/overview", "foo", "")
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	n := int(body["identities"].(float64))
	sum := func(k string) int {
		s := 0
		for _, v := range body[k].(map[string]any) {
			s += int(v.(float64))
		}
		return s
	}
	for _, k := range []string{"kinds", "privileges", "owner_status"} {
		if got := sum(k); got != n || n == 0 {
			t.Errorf("%s sum to %d, identities %d", k, got, n)
		}
	}
	if body["orphaned"].(float64) < 1 || body["idle"].(float64) < 1 {
		t.Errorf("orphaned %v idle %v: ci-deployer is both", body["orphaned"], body["idle"])
	}
	srcs := body["sources"].([]any)
	if len(srcs) == 0 {
		t.Fatal("no sources")
	}
	if status, _, _ := do(t, ts, "GET", "/v1/overview", "", ""); status != 401 {
		t.Errorf("without a key: %d", status)
	}
}

type fakeHistory struct{}

func (fakeHistory) Syncs(context.Context) ([]SyncStatus, error) {
	return []SyncStatus{{Connector: "aws-prod", At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Error: "aws: AccessDenied"}}, nil
}

func (fakeHistory) Trend(context.Context) ([]ChangeCounts, error) {
	return []ChangeCounts{{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Counts: map[string]int{"owner_departed": 2}}}, nil
}

func TestOverviewHistory(t *testing.T) {
	sgs := testgraph.Read(t, "../query/testdata/small.jsonl")
	for _, tt := range []struct {
		name          string
		history       History
		syncs, trends int
	}{{"no history", nil, 0, 0}, {"history", fakeHistory{}, 1, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{KeyHashes: map[string]string{"analyst": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
				Graph: testgraph.NewSource(graph.Build(sgs)), History: tt.history, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			status, body, _ := do(t, ts, "GET", "/v1/overview", "foo", "")
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			if n := len(body["syncs"].([]any)); n != tt.syncs {
				t.Errorf("syncs %d, want %d", n, tt.syncs)
			}
			if n := len(body["trend"].([]any)); n != tt.trends {
				t.Errorf("trend %d, want %d", n, tt.trends)
			}
		})
	}
}
