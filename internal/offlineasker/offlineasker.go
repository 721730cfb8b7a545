// Package offlineasker is the agent's offline path in miniature, for the
// tests of the Slack bot and the end-to-end stack: the planner maps each
// question (narrowing the conversation's previous plan on follow-ups) and
// the query executor runs it over a fixed index. It is imported by tests
// only.
package offlineasker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// Asker answers chat questions; it is safe for concurrent use.
type Asker struct {
	index *graph.Index
	now   func() time.Time
	mu    sync.Mutex
	prev  map[string]*query.Plan
}

// New returns an asker over ix whose questions run at now().
func New(ix *graph.Index, now func() time.Time) *Asker {
	return &Asker{index: ix, now: now, prev: map[string]*query.Plan{}}
}

// Chat plans msg, runs the plan and remembers it for the conversation.
func (a *Asker) Chat(ctx context.Context, conv, _, msg string, _ func(chat.Step)) (*chat.Answer, error) {
	a.mu.Lock()
	prev := a.prev[conv]
	a.mu.Unlock()
	p, err := planner.Plan(msg, prev)
	if err != nil {
		return &chat.Answer{ConversationID: conv, Answer: err.Error()}, err
	}
	res, err := query.Execute(ctx, a.index, p, a.now())
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.prev[conv] = p
	a.mu.Unlock()
	return &chat.Answer{ConversationID: conv, Answer: "Found " + strconv.Itoa(res.Total) + " matches.", Plan: p,
		Columns: res.Columns, Rows: res.Rows, Evidence: res.Evidence, Total: res.Total,
		Interpretation: planner.Describe(p, planner.DescribeOptions{Rows: true})}, nil
}
