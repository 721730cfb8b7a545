package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph/inventory"
)

type lister struct {
	ps  []*approval.Proposal
	err error
}

func (l lister) List(context.Context, approval.Filter) ([]*approval.Proposal, error) {
	return l.ps, l.err
}

func TestSyncSeries(t *testing.T) {
	m := New()
	m.ObserveSync(inventory.SyncResult{Connector: "prod-aws", Type: "aws", Nodes: 10, Edges: 20, Started: time.Unix(1000, 0), Duration: time.Second})
	m.ObserveSync(inventory.SyncResult{Connector: "prod-aws", Type: "aws", Duration: time.Second, Error: "read: boom"})
	if v := testutil.ToFloat64(m.syncErrors.WithLabelValues("prod-aws", "aws")); v != 1 {
		t.Errorf("errors %v", v)
	}
	if v := testutil.ToFloat64(m.syncObjects.WithLabelValues("prod-aws", "aws", "edges")); v != 20 {
		t.Errorf("edges %v (a failed run must keep the last loaded count)", v)
	}
	if v := testutil.ToFloat64(m.syncSuccess.WithLabelValues("prod-aws", "aws")); v != 1000 {
		t.Errorf("last success %v", v)
	}
	if n := testutil.CollectAndCount(m.syncDuration); n != 1 {
		t.Errorf("duration series %d", n)
	}
}

func TestProposalAndActionStates(t *testing.T) {
	m := New()
	done := &approval.Proposal{State: approval.StateDone, Actions: make([]connectors.Action, 2),
		Journal: []approval.JournalEntry{{Action: 0, Phase: approval.PhaseStarted}, {Action: 0, Phase: approval.PhaseDone}}}
	open := &approval.Proposal{State: approval.StateProposed, Actions: make([]connectors.Action, 1)}
	c := &proposalCollector{l: lister{ps: []*approval.Proposal{done, open, {State: approval.StateProposed}}}}
	m.Registry.MustRegister(c)
	got := map[string]float64{}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "steward_proposals" && mf.GetName() != "steward_actions" {
			continue
		}
		for _, mm := range mf.Metric {
			got[mf.GetName()+"/"+mm.Label[0].GetValue()] = mm.Gauge.GetValue()
		}
	}
	for k, want := range map[string]float64{"steward_proposals/proposed": 2, "steward_proposals/done": 1, "steward_proposals/rejected": 0,
		"steward_actions/done": 1, "steward_actions/pending": 2, "steward_actions/failed": 0} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	// A failing store drops the series for that scrape; the scrape works.
	m2 := New()
	m2.Registry.MustRegister(&proposalCollector{l: lister{err: errors.New("bolt: closed")}})
	if _, err := m2.Registry.Gather(); err != nil {
		t.Fatal(err)
	}
}
