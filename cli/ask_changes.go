package cli

import (
	"context"
	"sync"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

// changeHistory is the change history change questions read: with --demo
// the demo's fixed three-sync history (demo.History), else the directory
// `steward sync` and serve's scheduled syncs record into (changes.dir,
// see changesDir).
func changeHistory(e *env, g *graphFlags) tools.ChangeHistory {
	if g.demo {
		return demoChanges(g.seed, g.size)
	}
	cfg, err := e.config()
	if err != nil {
		// The question is answered without a history; the note says so.
		e.log.Warn("change history not read: configuration", "err", err)
		return nil
	}
	if g.path != "" {
		c := *cfg
		c.Graph = g.path // --graph wins: its history sits beside it
		cfg = &c
	}
	return changes.Dir(changesDir(cfg))
}

// executeChanges answers a change plan from the history and writes it as
// ask writes any answer, the history's note after the interpretation.
func executeChanges(ctx context.Context, e *env, cmd string, ix *graph.Index, g *graphFlags, out *outputFlags, question string, plan *query.Plan) int {
	res, note, err := tools.RunChanges(ctx, changeHistory(e, g), ix, plan, g.nowAt)
	if err != nil {
		return fail(e, cmd, err)
	}
	out.interpretation += "; " + note
	out.stderr = e.stderr
	if err := out.write(e.stdout, question, g.nowAt, res); err != nil {
		return fail(e, cmd, err)
	}
	return ExitOK
}

// demoChanges is the demo's history, replayed on first use: most
// questions are not about changes, and replaying builds two more graphs.
func demoChanges(seed int64, size int) tools.ChangeHistory {
	return &lazyLog{build: func() *changes.Log {
		var pts []changes.Point
		for i, sgs := range demo.History(demo.Config{Seed: seed, Size: size}) {
			pts = append(pts, changes.Point{At: demo.HistoryAt[i], Index: graph.Build(sgs)})
		}
		return changes.Replay(pts)
	}}
}

type lazyLog struct {
	once  sync.Once
	build func() *changes.Log
	log   *changes.Log
}

func (l *lazyLog) ChangeLog(context.Context) (*changes.Log, error) {
	l.once.Do(func() { l.log = l.build() })
	return l.log, nil
}

// serveChanges is what serve's change questions read: the demo's history
// with --demo, else the directory serve's scheduled syncs record into.
func serveChanges(g *graphFlags, t *changes.Tracker) tools.ChangeHistory {
	switch {
	case g.demo:
		return demoChanges(g.seed, g.size)
	case t != nil:
		return changes.Dir(t.Dir)
	}
	return nil
}
