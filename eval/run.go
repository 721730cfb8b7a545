package eval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/tools"
)

// Attempt is what an answerer produced for one case: the plan it ran (nil
// when it refused or failed) or the error that stopped it.
type Attempt struct {
	Plan *query.Plan
	Err  error
	// Refused is set by answerers that decline without an error (a model
	// replying in prose instead of calling a tool).
	Refused bool
	// ToolCalls and Tokens are what the answer cost (zero offline).
	ToolCalls int
	Tokens    int
}

// Answerer answers one case, including its conversation context.
type Answerer interface {
	Answer(ctx context.Context, c *Case) Attempt
}

// Outcome kinds.
const (
	OutRows     = "rows"
	OutGroups   = "groups"
	OutCount    = "count"
	OutRefusal  = "refusal"
	OutNotFound = "not_found"
	OutError    = "error"
)

// Outcome is an answer in comparable form.
type Outcome struct {
	Kind string `json:"kind"`
	// Keys are the sorted row keys: node ids, "via|action|resource|effect"
	// for reach rows, "group=count" for aggregates.
	Keys        []string `json:"-"`
	Total       int      `json:"total"`
	Suggestions []string `json:"suggestions,omitempty"`
	Err         string   `json:"error,omitempty"`
}

// Equal reports whether o answers the same as gold.
func (o Outcome) Equal(gold Outcome) bool {
	if o.Kind != gold.Kind {
		return false
	}
	switch o.Kind {
	case OutCount:
		return o.Total == gold.Total
	case OutNotFound:
		return slices.Equal(o.Suggestions, gold.Suggestions)
	case OutRefusal:
		return true
	case OutError:
		return false
	}
	return slices.Equal(o.Keys, gold.Keys)
}

// String summarises o for failure listings.
func (o Outcome) String() string {
	switch o.Kind {
	case OutRefusal:
		return "refusal"
	case OutNotFound:
		return fmt.Sprintf("not found (did you mean %s)", strings.Join(o.Suggestions, ", "))
	case OutError:
		return "error: " + o.Err
	case OutCount:
		return fmt.Sprintf("count %d", o.Total)
	}
	shown := o.Keys
	if len(shown) > 3 {
		shown = shown[:3]
	}
	s := fmt.Sprintf("%d %s", o.Total, o.Kind)
	if len(shown) > 0 {
		s += " [" + strings.Join(shown, " ")
		if len(o.Keys) > len(shown) {
			s += " …"
		}
		s += "]"
	}
	return s
}

// Execute runs p on ix and returns its outcome; countOnly compares totals.
// Plans at the default limit run unlimited, so the whole answer set is
// compared, not its first page.
func Execute(ctx context.Context, ix *graph.Index, now time.Time, p *query.Plan, countOnly bool) Outcome {
	return execute(ctx, ix, now, nil, p, countOnly)
}

// execute is Execute with the change history change plans read.
func execute(ctx context.Context, ix *graph.Index, now time.Time, hist tools.ChangeHistory, p *query.Plan, countOnly bool) Outcome {
	q := *p
	if q.Limit == 0 || q.Limit == query.DefaultLimit {
		q.Limit = query.MaxLimit
	}
	var res *query.Result
	var err error
	if q.Changes != nil {
		res, _, err = tools.RunChanges(ctx, hist, ix, &q, now)
	} else {
		res, err = query.Execute(ctx, ix, &q, now)
	}
	if err != nil {
		return errOutcome(err)
	}
	o := Outcome{Kind: OutRows, Total: res.Total}
	switch {
	case q.Changes != nil:
		// A change is its time, source, type, identity and detail.
		for _, r := range res.Rows {
			o.Keys = append(o.Keys, fmt.Sprintf("%v|%v|%v|%v|%v", r[0], r[1], r[2], r[3], r[5]))
		}
	case len(q.GroupBy) > 0:
		o.Kind, o.Total = OutGroups, 0
		for _, r := range res.Rows {
			n := r[len(r)-1].(float64)
			o.Total += int(n)
			parts := make([]string, 0, len(r)-1)
			for _, v := range r[:len(r)-1] {
				parts = append(parts, fmt.Sprint(v))
			}
			o.Keys = append(o.Keys, strings.Join(parts, "/")+"="+strconv.Itoa(int(n)))
		}
	case q.Reach != nil:
		col := map[string]int{}
		for i, c := range res.Columns {
			col[c] = i
		}
		for i, r := range res.Rows {
			o.Keys = append(o.Keys, fmt.Sprintf("%s|%v|%v|%v", res.IDs[i], r[col["action"]], r[col["resource"]], r[col["effect"]]))
		}
	default:
		o.Keys = append(o.Keys, res.IDs...)
	}
	if countOnly {
		o.Kind, o.Keys = OutCount, nil
	}
	sort.Strings(o.Keys)
	o.Keys = slices.Compact(o.Keys)
	return o
}

func errOutcome(err error) Outcome {
	var ee *query.EntityError
	if errors.As(err, &ee) {
		return Outcome{Kind: OutNotFound, Suggestions: ee.Suggestions}
	}
	if errors.Is(err, planner.ErrUnmapped) {
		return Outcome{Kind: OutRefusal}
	}
	return Outcome{Kind: OutError, Err: err.Error()}
}

// Gold returns the gold outcome of c.
func Gold(ctx context.Context, ix *graph.Index, now time.Time, c *Case) Outcome {
	return goldOf(ctx, ix, now, nil, c)
}

func goldOf(ctx context.Context, ix *graph.Index, now time.Time, hist tools.ChangeHistory, c *Case) Outcome {
	if c.Expect == ExpectRefusal {
		return Outcome{Kind: OutRefusal}
	}
	return execute(ctx, ix, now, hist, c.GoldPlan(), c.Answer == AnswerCount)
}

// CaseResult is the scored answer to one case.
type CaseResult struct {
	Case *Case
	// Skipped says why the case could not be scored on this graph.
	Skipped  string
	Gold     Outcome
	Got      Outcome
	Correct  bool
	Latency  time.Duration
	Attempt  Attempt
	GotPlan  *query.Plan
	GoldPlan *query.Plan
}

// Run answers every case with a and scores it against its gold. ix and now
// must be those the answerer uses.
func Run(ctx context.Context, ix *graph.Index, now time.Time, cases []Case, a Answerer) ([]CaseResult, error) {
	return RunHistory(ctx, ix, now, nil, cases, a)
}

// RunHistory is Run with the change history the change questions' plans
// (gold and answered) read: the demo's (demo.History) for the question
// set.
func RunHistory(ctx context.Context, ix *graph.Index, now time.Time, hist tools.ChangeHistory, cases []Case, a Answerer) ([]CaseResult, error) {
	out := make([]CaseResult, 0, len(cases))
	for i := range cases {
		c := &cases[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		gold := goldOf(ctx, ix, now, hist, c)
		if gold.Kind == OutError {
			return nil, fmt.Errorf("eval: %s:%d (%s): gold plan fails: %s", c.File, c.Line, c.ID, gold.Err)
		}
		// The set is written for the default demo; on another seed or
		// size a named entity may be missing (or a misspelling may hit a
		// real name). Such cases cannot be scored there: they are skipped
		// and listed, never counted as right or wrong.
		skip := ""
		switch {
		case c.Expect == ExpectNotFound && gold.Kind != OutNotFound:
			skip = fmt.Sprintf("%s:%d: expect not_found, but the gold plan resolves on this graph", c.File, c.Line)
		case c.Expect == "" && gold.Kind == OutNotFound:
			skip = fmt.Sprintf("%s:%d: the gold plan names an entity this graph lacks (did you mean %s?)", c.File, c.Line, strings.Join(gold.Suggestions, ", "))
		}
		if skip != "" {
			out = append(out, CaseResult{Case: c, Gold: gold, Skipped: skip, GoldPlan: c.GoldPlan()})
			continue
		}
		start := time.Now()
		at := a.Answer(ctx, c)
		var got Outcome
		switch {
		case at.Err != nil:
			got = errOutcome(at.Err)
		case at.Refused || at.Plan == nil:
			got = Outcome{Kind: OutRefusal}
		default:
			got = execute(ctx, ix, now, hist, at.Plan, c.Answer == AnswerCount)
		}
		lat := time.Since(start)
		out = append(out, CaseResult{Case: c, Gold: gold, Got: got, Correct: got.Equal(gold), Latency: lat,
			Attempt: at, GotPlan: at.Plan, GoldPlan: c.GoldPlan()})
	}
	return out, nil
}
