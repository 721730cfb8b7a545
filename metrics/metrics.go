// Package metrics is the Prometheus registry of `steward serve`: the Go
// runtime and process collectors, and Steward's own series — per-connector
// sync duration, errors and objects, proposals and their actions by
// state, audit append failures. The HTTP server adds its request, answer
// and question counters to the same registry. deploy/grafana holds a
// dashboard over exactly these series (a test checks every panel's).
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/graph/inventory"
)

// Metrics holds the registry and Steward's series in it.
type Metrics struct {
	Registry *prometheus.Registry

	syncDuration *prometheus.HistogramVec
	syncErrors   *prometheus.CounterVec
	syncRuns     *prometheus.CounterVec
	syncObjects  *prometheus.GaugeVec
	syncSuccess  *prometheus.GaugeVec
}

// New builds a registry with the Go runtime and process collectors and
// Steward's sync series.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "steward_sync_duration_seconds",
			Help:    "Duration of one connector run (read and store), by connector.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900}}, []string{"connector", "type"}),
		syncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_sync_errors_total",
			Help: "Connector runs that failed (their previous subgraph was kept), by connector."}, []string{"connector", "type"}),
		syncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_sync_runs_total",
			Help: "Connector runs, by connector and outcome (loaded or failed)."}, []string{"connector", "type", "outcome"}),
		syncObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "steward_sync_objects",
			Help: "Nodes and edges the last successful run of a connector loaded."}, []string{"connector", "type", "object"}),
		syncSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "steward_sync_last_success_timestamp_seconds",
			Help: "Unix time the last successful run of a connector started."}, []string{"connector", "type"}),
	}
	reg.MustRegister(m.syncDuration, m.syncErrors, m.syncRuns, m.syncObjects, m.syncSuccess)
	return m
}

// ObserveSync records one connector run.
func (m *Metrics) ObserveSync(r inventory.SyncResult) {
	m.syncDuration.WithLabelValues(r.Connector, r.Type).Observe(r.Duration.Seconds())
	if r.Error != "" {
		m.syncErrors.WithLabelValues(r.Connector, r.Type).Inc()
		m.syncRuns.WithLabelValues(r.Connector, r.Type, "failed").Inc()
		return
	}
	m.syncErrors.WithLabelValues(r.Connector, r.Type).Add(0) // the series exists before the first failure
	m.syncRuns.WithLabelValues(r.Connector, r.Type, "loaded").Inc()
	m.syncObjects.WithLabelValues(r.Connector, r.Type, "nodes").Set(float64(r.Nodes))
	m.syncObjects.WithLabelValues(r.Connector, r.Type, "edges").Set(float64(r.Edges))
	m.syncSuccess.WithLabelValues(r.Connector, r.Type).Set(float64(r.Started.Unix()))
}

// AuditFailures exports failures (a running count of audit appends that
// failed, audit.Log.Failures) as steward_audit_append_failures_total.
func (m *Metrics) AuditFailures(failures func() int64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "steward_audit_append_failures_total",
		Help: "Audit records that could not be appended (a failing audit log stops actions)."},
		func() float64 { return float64(failures()) }))
}

// ProposalLister is what the proposal collector reads at each scrape.
type ProposalLister interface {
	List(ctx context.Context, f approval.Filter) ([]*approval.Proposal, error)
}

// Proposals exports, at each scrape, the number of proposals in every
// state and of their actions in every journal phase ("pending" before
// the first).
func (m *Metrics) Proposals(l ProposalLister, log *slog.Logger) {
	m.Registry.MustRegister(&proposalCollector{l: l, log: log})
}

var (
	proposalsDesc  = prometheus.NewDesc("steward_proposals", "Remediation proposals by state.", []string{"state"}, nil)
	actionsDesc    = prometheus.NewDesc("steward_actions", "Actions of remediation proposals by state (last journal phase; pending before the first).", []string{"state"}, nil)
	proposalStates = []approval.State{approval.StateProposed, approval.StateEscalated, approval.StateApproved, approval.StateExecuting,
		approval.StateDone, approval.StateFailed, approval.StateRolledBack, approval.StateRejected, approval.StateChangesRequested,
		approval.StateExpired, approval.StateCancelled}
	actionStates = []approval.Phase{"pending", approval.PhaseStarted, approval.PhaseDone, approval.PhaseFailed, approval.PhaseCheckedAbsent,
		approval.PhaseResolvedDone, approval.PhaseResolvedNot, approval.PhaseUndoStarted, approval.PhaseUndoDone, approval.PhaseUndoFailed}
)

type proposalCollector struct {
	l   ProposalLister
	log *slog.Logger
}

func (c *proposalCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- proposalsDesc
	ch <- actionsDesc
}

func (c *proposalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps, err := c.l.List(ctx, approval.Filter{})
	if err != nil {
		// A scrape must not fail for this; the series go missing and
		// the log says why.
		if c.log != nil {
			c.log.Warn("metrics: list proposals", "err", err)
		}
		return
	}
	byState := map[approval.State]int{}
	byPhase := map[approval.Phase]int{}
	for _, p := range ps {
		byState[p.State]++
		for i := range p.Actions {
			ph := p.ActionPhase(i)
			if ph == "" {
				ph = "pending"
			}
			byPhase[ph]++
		}
	}
	for _, s := range proposalStates {
		ch <- prometheus.MustNewConstMetric(proposalsDesc, prometheus.GaugeValue, float64(byState[s]), string(s))
	}
	for _, ph := range actionStates {
		ch <- prometheus.MustNewConstMetric(actionsDesc, prometheus.GaugeValue, float64(byPhase[ph]), string(ph))
	}
}
