package eval

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/steward-oss/steward/agent"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

// Agent answers through the agent package, so a configured model is
// scored exactly as analysts would use it: each case is its own thread,
// and follow-ups first ask their context questions in that thread.
type Agent struct {
	Agent *agent.Agent
	Env   *tools.Env
	n     atomic.Int64
}

var _ Answerer = (*Agent)(nil)

// Answer asks c (after its context) and returns the plan of the last tool
// result with rows. A turn that ends without one is a refusal, unless a
// tool said the named entity does not exist: that is the did-you-mean
// outcome, with the tool's suggestions.
func (g *Agent) Answer(ctx context.Context, c *Case) Attempt {
	thread := fmt.Sprintf("eval-%s-%d", c.ID, g.n.Add(1))
	var at Attempt
	for _, q := range c.Context {
		ans, _ := g.Agent.Ask(ctx, g.Env, agent.Question{Thread: thread, Text: q})
		if ans != nil {
			at.ToolCalls += ans.Usage.ToolCalls
			at.Tokens += ans.Usage.Total()
		}
	}
	ans, err := g.Agent.Ask(ctx, g.Env, agent.Question{Thread: thread, Text: c.Question})
	if ans == nil {
		at.Err = err
		return at
	}
	at.ToolCalls += ans.Usage.ToolCalls
	at.Tokens += ans.Usage.Total()
	if ans.Plan != nil {
		at.Plan = ans.Plan
		return at
	}
	for _, s := range ans.Steps {
		if s.Error != nil && s.Error.Code == tools.CodeNotFound {
			at.Err = &query.EntityError{Name: s.Args, Suggestions: s.Error.Suggestions}
			return at
		}
	}
	var be *agent.BudgetError
	if err != nil && !errors.As(err, &be) {
		at.Err = err
		return at
	}
	at.Refused = true
	return at
}
