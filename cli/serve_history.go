package cli

import (
	"context"
	"sort"
	"time"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/server"
)

// serveHistory is the overview's sync history: each connector's last run
// from the audit log's sync records (as `steward sources` reads them) and
// the change history `steward changes` reads, counted by sync.
type serveHistory struct {
	auditLog   string
	changesDir string // "" when serve tracks no changes
}

var _ server.History = serveHistory{}

func (h serveHistory) Syncs(context.Context) ([]server.SyncStatus, error) {
	runs, err := lastSyncs(h.auditLog)
	if err != nil {
		return nil, err
	}
	out := make([]server.SyncStatus, 0, len(runs))
	for _, r := range runs {
		out = append(out, server.SyncStatus{Connector: r.connector, Sources: r.sources, At: r.at, Error: r.err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Connector < out[j].Connector })
	return out, nil
}

func (h serveHistory) Trend(context.Context) ([]server.ChangeCounts, error) {
	if h.changesDir == "" {
		return nil, nil
	}
	cs, err := changes.History(h.changesDir, time.Time{})
	if err != nil {
		return nil, err
	}
	// One sync's changes share its time stamp.
	var out []server.ChangeCounts
	for _, c := range cs {
		if n := len(out); n == 0 || !out[n-1].At.Equal(c.At) {
			out = append(out, server.ChangeCounts{At: c.At, Counts: map[string]int{}})
		}
		out[len(out)-1].Counts[c.Type]++
	}
	return out, nil
}

// trackedDir is the tracker's history directory ("" without a tracker).
func trackedDir(t *changes.Tracker) string {
	if t == nil {
		return ""
	}
	return t.Dir
}
