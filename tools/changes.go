package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// ChangeHistory is the change history a change plan reads: the directory
// `steward sync` and serve's scheduled syncs record into
// (changes.Dir), or a log in memory (the demo's fixed history).
type ChangeHistory interface {
	ChangeLog(ctx context.Context) (*changes.Log, error)
}

var (
	_ ChangeHistory = changes.Dir("")
	_ ChangeHistory = (*changes.Log)(nil)
)

// EdgeChanged is the kind of a change's own evidence edge: from the
// identity that changed to its source, with what changed and when.
const EdgeChanged graph.EdgeKind = "changed"

func listChanges() Tool {
	return Tool{
		Name: "list_changes",
		Description: "What changed between syncs, from the recorded change history (not the current graph): identities added or removed, new admins, " +
			"new escalation paths, new credentials, new long-lived keys on admins, owners lost or departed, grants added, per source. " +
			"Arguments are a query plan with changes (since as an RFC 3339 time resolved from the question's relative time, or last_sync for " +
			"\"since the last sync\"; types: " + strings.Join(query.ChangeTypes, ", ") + "), optionally sources and ids. " +
			"The result says whether no history is recorded yet or nothing changed in the window.",
		Schema:   planSchema([]string{"version", "sources", "ids", "changes", "limit", "now"}, []string{"changes"}, nil),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, args json.RawMessage) (*Output, error) {
			p, err := decodePlan(args)
			if err != nil {
				return nil, err
			}
			if p.Changes == nil {
				return nil, argErr("changes", "required: which changes (since, last_sync, types)")
			}
			bound(p, env.Limits)
			res, note, err := RunChanges(ctx, env.Changes, env.Index, p, env.Now)
			if err != nil {
				return nil, err
			}
			return &Output{Plan: p, Result: res, Text: note}, nil
		},
	}
}

// RunChanges answers a change plan from h: the rows (newest sync first)
// with each change's evidence, and a note saying what the history holds,
// so that "no history recorded yet" (h nil, or no sync recorded) and
// "nothing changed in that window" read differently. ix, when set, adds
// the current graph's edges that still show a change (the credential,
// the grant) to its evidence.
func RunChanges(ctx context.Context, h ChangeHistory, ix *graph.Index, p *query.Plan, now time.Time) (*query.Result, string, error) {
	if p.Changes == nil {
		return nil, "", argErr("changes", "not a change plan")
	}
	if err := p.Validate(); err != nil {
		return nil, "", err
	}
	res := &query.Result{Plan: p, Columns: append([]string(nil), query.ChangeColumns...), Rows: [][]any{}, Evidence: [][]query.EdgeRef{}}
	if h == nil {
		return res, "No change history is recorded here: Steward records changes at each `steward sync` and scheduled sync of `steward serve` (changes.dir).", nil
	}
	log, err := h.ChangeLog(ctx)
	if err != nil {
		return nil, "", err
	}
	switch {
	case !log.Recorded():
		return res, "No change history recorded yet: the first sync sets the baseline and the next one records what changed.", nil
	case len(log.Syncs) == 1:
		return res, fmt.Sprintf("Only the baseline sync is recorded (%s): the next sync records what changed.", log.Last().At.Format(time.RFC3339)), nil
	}
	c := p.Changes
	var from time.Time
	switch {
	case c.LastSync:
		from = log.Last().At
	default:
		from = c.Since
	}
	var picked []changes.Change
	for _, ch := range log.Changes {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		switch {
		case ch.At.Before(from),
			c.LastSync && !ch.At.Equal(from),
			len(c.Types) > 0 && !slices.Contains(c.Types, ch.Type),
			len(p.Sources) > 0 && !slices.ContainsFunc(p.Sources, func(s string) bool { return s == ch.Source || s == graph.SourceType(ch.Source) }),
			len(p.IDs) > 0 && !slices.Contains(p.IDs, ch.Identity):
			continue
		}
		picked = append(picked, ch)
	}
	// Newest sync first; within a sync, the history's order (source,
	// identity, type).
	slices.SortStableFunc(picked, func(a, b changes.Change) int { return b.At.Compare(a.At) })
	res.Total = len(picked)
	syncs := 0
	for _, s := range log.Syncs[1:] {
		if !s.At.Before(from) && (!c.LastSync || s.At.Equal(from)) {
			syncs++
		}
	}
	for i, ch := range picked {
		if i == p.Limit {
			break
		}
		res.Rows = append(res.Rows, []any{ch.At.UTC().Format(time.RFC3339), ch.Source, ch.Type, ch.Identity, ch.Name, ch.Detail})
		res.Evidence = append(res.Evidence, changeEvidence(ix, ch))
		res.IDs = append(res.IDs, ch.Identity)
	}
	last := log.Last().At.Format(time.RFC3339)
	if res.Total == 0 {
		why := "no sync ran in it"
		if syncs > 0 {
			why = "the " + plural(syncs, "sync", "syncs") + " in it found no matching change"
		}
		return res, fmt.Sprintf("Nothing changed in that window: %s (%d syncs recorded, the last at %s).", why, len(log.Syncs), last), nil
	}
	return res, fmt.Sprintf("%s from %s (%d syncs recorded, the last at %s)%s", plural(res.Total, "change", "changes"),
		plural(syncs, "sync", "syncs"), len(log.Syncs), last, shown(res)), nil
}

// changeEvidence is the change itself (which identity, source, type,
// detail, when) and the current graph's edge that still shows it.
func changeEvidence(ix *graph.Index, ch changes.Change) []query.EdgeRef {
	props := map[string]any{"type": ch.Type, "at": ch.At.UTC().Format(time.RFC3339)}
	if ch.Detail != "" {
		props["detail"] = ch.Detail
	}
	out := []query.EdgeRef{{From: ch.Identity, To: ch.Source, Kind: EdgeChanged, Props: props}}
	if ix == nil {
		return out
	}
	i, ok := ix.Lookup(ch.Identity)
	if !ok {
		return out
	}
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		var hit bool
		switch ch.Type {
		case changes.NewCredential, changes.NewLongLivedKey:
			hit = e.Kind == graph.EdgeHasCredential && e.To == ch.Detail
		case changes.GrantAdded:
			hit = (e.Kind == graph.EdgeGrants && strings.TrimSpace(e.Effect+" "+e.Action+" on "+e.Resource) == ch.Detail) ||
				((e.Kind == graph.EdgeMemberOf || e.Kind == graph.EdgeCanAssume) && string(e.Kind)+" "+e.To == ch.Detail)
		}
		if hit {
			out = append(out, query.EdgeRef{From: e.From, To: e.To, Kind: e.Kind})
		}
	}
	return out
}
