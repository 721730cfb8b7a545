package usage

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Anomaly kinds.
const (
	NewSourceIP  = "new_source_ip"
	NewUserAgent = "new_user_agent"
)

// Anomaly is one first-time sighting on a subject's latest day of use.
type Anomaly struct {
	Subject   string    `json:"subject"` // the credential or identity node id
	Kind      string    `json:"kind"`    // NewSourceIP or NewUserAgent
	Value     string    `json:"value"`   // the address or user agent
	FirstSeen time.Time `json:"first_seen"`
	// Known lists the values seen for the subject before that day, the
	// baseline the new one departs from.
	Known []string `json:"known"`
}

// Options narrow Anomalies to what is worth a look.
type Options struct {
	// Now and Window: only sightings first seen in [Now-Window, Now]
	// count. A zero Window means no limit.
	Now    time.Time
	Window time.Duration
	// MinBaseline is how many recorded uses (used edges, each counted
	// from its first sighting) from before the latest day a subject needs
	// for a departure from them to mean anything.
	MinBaseline int
	// SourceWide: a value another identity or credential of the same
	// source used before that day is a known client of the source (a
	// shared CI runner, a NAT address), not new.
	SourceWide bool
}

// DefaultOptions are what `steward anomalies` uses: the last 7 days, at
// least 2 earlier uses, source-wide baseline.
func DefaultOptions(now time.Time) Options {
	return Options{Now: now, Window: 7 * 24 * time.Hour, MinBaseline: 2, SourceWide: true}
}

// Anomalies flags, for every subject of used edges (credentials and
// identities), each source IP and user agent first seen on the UTC day of
// its latest use when the subject has history from before that day. A
// subject whose whole history is that one day has no baseline and is not
// flagged. Results are sorted by subject, kind, first sighting and value.
// It applies no window or threshold; AnomaliesIn does.
func Anomalies(sgs []*graph.Subgraph) []Anomaly {
	return AnomaliesIn(sgs, Options{})
}

// AnomaliesIn is Anomalies narrowed by opts.
func AnomaliesIn(sgs []*graph.Subgraph, opts Options) []Anomaly {
	type hist struct {
		source string
		latest time.Time
		uses   []time.Time
		ips    map[string]time.Time
		agents map[string]time.Time
	}
	subjects := map[string]*hist{}
	// population[kind][source][value] lists each subject's first sighting.
	population := map[string]map[string]map[string]map[string]time.Time{NewSourceIP: {}, NewUserAgent: {}}
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if e.Kind != graph.EdgeUsed || e.LastSeen.IsZero() {
				continue
			}
			h := subjects[e.From]
			if h == nil {
				h = &hist{source: sg.Source, ips: map[string]time.Time{}, agents: map[string]time.Time{}}
				subjects[e.From] = h
			}
			if e.LastSeen.After(h.latest) {
				h.latest = e.LastSeen
			}
			// An aggregated edge (CloudTrail) shows use since its first
			// sighting: that is what counts towards the baseline.
			first := e.LastSeen
			if fs, err := time.Parse(time.RFC3339, e.Attrs[attrFirstSeen]); err == nil && fs.Before(first) {
				first = fs
			}
			h.uses = append(h.uses, first)
			mergeFirstSeen(h.ips, e, attrSourceIPs, graph.AttrSourceIP)
			mergeFirstSeen(h.agents, e, attrUserAgents, graph.AttrUserAgent)
		}
	}
	if opts.SourceWide {
		for subj, h := range subjects {
			for kind, seen := range map[string]map[string]time.Time{NewSourceIP: h.ips, NewUserAgent: h.agents} {
				bySource := population[kind][h.source]
				if bySource == nil {
					bySource = map[string]map[string]time.Time{}
					population[kind][h.source] = bySource
				}
				for v, t := range seen {
					if bySource[v] == nil {
						bySource[v] = map[string]time.Time{}
					}
					bySource[v][subj] = t
				}
			}
		}
	}
	knownElsewhere := func(kind, source, value, subj string, day time.Time) bool {
		for other, t := range population[kind][source][value] {
			if other != subj && t.Before(day) {
				return true
			}
		}
		return false
	}
	var out []Anomaly
	for subj, h := range subjects {
		day := h.latest.UTC().Truncate(24 * time.Hour)
		if opts.MinBaseline > 0 {
			before := 0
			for _, t := range h.uses {
				if t.Before(day) {
					before++
				}
			}
			if before < opts.MinBaseline {
				continue
			}
		}
		for _, x := range []struct {
			kind string
			seen map[string]time.Time
		}{{NewSourceIP, h.ips}, {NewUserAgent, h.agents}} {
			var known, fresh []string
			for v, t := range x.seen {
				if t.Before(day) {
					known = append(known, v)
				} else {
					fresh = append(fresh, v)
				}
			}
			if len(known) == 0 {
				continue
			}
			sort.Strings(known)
			for _, v := range fresh {
				first := x.seen[v]
				if opts.Window > 0 && (first.Before(opts.Now.Add(-opts.Window)) || first.After(opts.Now)) {
					continue
				}
				if opts.SourceWide && knownElsewhere(x.kind, h.source, v, subj, day) {
					continue
				}
				out = append(out, Anomaly{Subject: subj, Kind: x.kind, Value: v, FirstSeen: first, Known: known})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Subject != b.Subject:
			return a.Subject < b.Subject
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case !a.FirstSeen.Equal(b.FirstSeen):
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.Value < b.Value
	})
	return out
}

// mergeFirstSeen reads an edge's {value: first seen} map, or, for edges
// that carry only the latest value, takes that value as first seen at the
// edge's first_seen (or last_seen) time.
func mergeFirstSeen(dst map[string]time.Time, e graph.Edge, mapAttr, oneAttr string) {
	if raw := e.Attrs[mapAttr]; raw != "" {
		var m map[string]string
		if json.Unmarshal([]byte(raw), &m) == nil {
			for v, ts := range m {
				if t, err := time.Parse(time.RFC3339, ts); err == nil {
					keepEarliest(dst, v, t)
				}
			}
			return
		}
	}
	v := e.Attrs[oneAttr]
	if v == "" {
		return
	}
	t := e.LastSeen
	if fs, err := time.Parse(time.RFC3339, e.Attrs[attrFirstSeen]); err == nil {
		t = fs
	}
	keepEarliest(dst, v, t)
}

func keepEarliest(m map[string]time.Time, k string, t time.Time) {
	if old, ok := m[k]; !ok || t.Before(old) {
		m[k] = t
	}
}
