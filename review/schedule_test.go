package review

import (
	"context"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
)

// graphWithUsage also gives the subgraphs, so snapshots know unused
// permissions.
type graphWithUsage struct {
	ix  *graph.Index
	sgs []*graph.Subgraph
}

func (g graphWithUsage) Index() *graph.Index    { return g.ix }
func (g graphWithUsage) All() []*graph.Subgraph { return g.sgs }

func TestRunSchedule(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	c := campaign(t) // quarterly
	once := campaign(t)
	once.Name, once.Schedule, once.Every = "once-only", ScheduleOnce, 0
	steps := []struct {
		advance time.Duration
		want    int
	}{
		{0, 2},                   // never launched: both
		{time.Hour, 0},           // nothing due
		{90 * 24 * time.Hour, 0}, // not a quarter yet
		{2 * 24 * time.Hour, 1},  // the quarterly one again, not the once
		{0, 0},                   // same day: launched once
	}
	for i, s := range steps {
		fx.clock.Advance(s.advance)
		got, err := fx.svc.RunSchedule(ctx, []*Campaign{c, once})
		if err != nil || len(got) != s.want {
			t.Fatalf("step %d: launched %d, want %d (%v)", i, len(got), s.want, err)
		}
	}
	ins, _ := fx.svc.List(ctx)
	if len(ins) != 3 {
		t.Fatalf("%d instances", len(ins))
	}
}

func TestModifyDownToUsed(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	sgs := testgraph.Read(t, "testdata/org.jsonl")
	fx.svc.o.Graph = graphWithUsage{fx.ix, sgs}
	c := campaign(t)
	c.Name, c.Plan = "readers", []byte(`{"version":1,"ids":["postgres:orders:role/svc_reader"]}`)
	in, err := fx.svc.Launch(ctx, c, carl)
	if err != nil {
		t.Fatal(err)
	}
	it := in.Items[0]
	if !it.Snapshot.UnusedKnown || len(it.Snapshot.Unused) != 1 || it.Snapshot.Unused[0] != "SELECT" {
		t.Fatalf("unused %+v", it.Snapshot)
	}
	_, got, err := fx.svc.Decide(ctx, in.ID, it.ID, Input{Kind: DecisionModify, Justification: "reads nothing any more"}, alice)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fx.approval.Get(ctx, got.ProposalID)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Actions[0]
	if len(p.Actions) != 1 || a.Type != "revoke_grant" || a.Params["privilege"] != "SELECT" || a.Params["resource"] != "postgres:orders:table/public.orders" ||
		a.Params["can_login"] != "true" || p.Requester != "alice@example.com" {
		t.Fatalf("modify proposal %+v", p.Actions)
	}
}
