package escalation_test

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// TestQueryFilter: admin_via_escalation is a query field whose rows carry
// the path as evidence, so "who can become admin" is a plan.
func TestQueryFilter(t *testing.T) {
	rd, err := connectors.New("aws", connectors.Options{"authorization-details": "testdata/aws-authz-details.json"},
		connectors.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sgs, err := rd.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ix := graph.Build(sgs)
	p := &query.Plan{Version: query.Version, Kinds: []graph.Kind{graph.KindServiceAccount, graph.KindUser, graph.KindRole},
		Filters: []query.Filter{{Field: "admin_via_escalation", Op: "eq", Value: true}}}
	res, err := query.Execute(context.Background(), ix, p, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k, id := range res.IDs {
		names = append(names, id[strings.LastIndex(id, "/")+1:])
		if len(res.Evidence[k]) == 0 {
			t.Errorf("%s: no evidence", id)
		}
	}
	sort.Strings(names)
	// The 19 esc-* users, and hop-role, which can assume admin-role.
	var want []string
	for _, n := range names {
		if strings.HasPrefix(n, "esc-") {
			want = append(want, n)
		}
	}
	if len(want) != 19 || len(names) != 20 || !slices.Contains(names, "hop-role") {
		t.Fatalf("admin_via_escalation rows = %v", names)
	}
}
