package eval

import (
	"context"
	"time"

	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// Offline answers with the deterministic planner. A follow-up is planned
// as the conversation would be: each earlier question is planned in turn,
// and the last plan is the follow-up's previous plan, so a mistake early
// in a conversation costs the follow-up too. With a Resolver, entity
// names are resolved against the graph as planner.PlanWith does.
type Offline struct {
	Resolver planner.Resolver
	// Now is the planner's clock for relative times ("since
	// yesterday"): the demo's reference time; zero means time.Now().
	Now time.Time
}

var _ Answerer = Offline{}

// Answer plans c.
func (o Offline) Answer(_ context.Context, c *Case) Attempt {
	var prev *query.Plan
	for _, q := range c.Context {
		p, err := planner.PlanWith(q, prev, planner.Options{Resolver: o.Resolver, Now: o.Now})
		if err != nil {
			// The conversation goes on without a previous result.
			continue
		}
		prev = p
	}
	p, err := planner.PlanWith(c.Question, prev, planner.Options{Resolver: o.Resolver, Now: o.Now})
	if err != nil {
		return Attempt{Err: err}
	}
	return Attempt{Plan: p}
}
