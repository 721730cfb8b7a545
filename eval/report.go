package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Score is the accuracy of a set of cases. Fields are only ever added:
// the JSON is a contract.
type Score struct {
	Questions int     `json:"questions"`
	Accuracy  float64 `json:"accuracy"`
	Correct   int     `json:"correct"`
	// Latency per question (planning and execution), milliseconds.
	LatencyP50 float64 `json:"latency_ms_p50"`
	LatencyP95 float64 `json:"latency_ms_p95"`
	ToolCalls  int     `json:"tool_calls"`
	Tokens     int     `json:"tokens"`
	// Right, Wrong and Refused partition Questions: right is Correct;
	// wrong answered with a different result (rows, groups or a count —
	// the outcome an analyst would trust); refused declined (a refusal, a
	// not-found entity or an error) where the gold was something else.
	Right   int `json:"right"`
	Wrong   int `json:"wrong"`
	Refused int `json:"refused"`
	// WrongRate is Wrong / Questions: the share of answers that mislead.
	WrongRate float64 `json:"wrong_rate"`
	// Answerable counts questions whose gold is an answer (rows, groups,
	// a count or a did-you-mean); AnswerableRight those answered right.
	Answerable      int `json:"answerable"`
	AnswerableRight int `json:"answerable_right"`
	// MustRefuse counts questions whose gold is a refusal; MustRefuseRefused
	// those refused.
	MustRefuse        int `json:"must_refuse"`
	MustRefuseRefused int `json:"must_refuse_refused"`
}

// Verdicts of one scored case.
const (
	VerdictRight   = "right"
	VerdictWrong   = "wrong"
	VerdictRefused = "refused"
)

// Verdict classifies cr: right, wrong (answered, differently from the
// gold) or refused (did not answer).
func (cr *CaseResult) Verdict() string {
	switch {
	case cr.Correct:
		return VerdictRight
	case cr.Got.Kind == OutRefusal || cr.Got.Kind == OutNotFound || cr.Got.Kind == OutError:
		return VerdictRefused
	}
	return VerdictWrong
}

// Failure is one wrong answer.
type Failure struct {
	ID       string   `json:"id"`
	Split    string   `json:"split"`
	Intent   string   `json:"intent"`
	Question string   `json:"question"`
	Context  []string `json:"context,omitempty"`
	Expected string   `json:"expected"`
	Got      string   `json:"got"`
	// Verdict is wrong or refused.
	Verdict string `json:"verdict"`
	GotPlan any    `json:"got_plan,omitempty"`
}

// Skip is a case that could not be scored on the graph used.
type Skip struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Report is the scored run.
type Report struct {
	Mode     string            `json:"mode"`
	Splits   map[string]*Score `json:"splits"`
	Intents  map[string]*Score `json:"intents"`
	Overall  *Score            `json:"overall"`
	Failures []Failure         `json:"failures"`
	Skipped  []Skip            `json:"skipped"`
}

// Summarise builds the report of results.
func Summarise(mode string, results []CaseResult) *Report {
	r := &Report{Mode: mode, Splits: map[string]*Score{}, Intents: map[string]*Score{}, Failures: []Failure{}, Skipped: []Skip{}}
	lat := map[*Score][]time.Duration{}
	add := func(s *Score, cr *CaseResult) {
		s.Questions++
		if cr.Correct {
			s.Correct++
		}
		switch cr.Verdict() {
		case VerdictRight:
			s.Right++
		case VerdictWrong:
			s.Wrong++
		default:
			s.Refused++
		}
		if cr.Gold.Kind == OutRefusal {
			s.MustRefuse++
			if cr.Got.Kind == OutRefusal {
				s.MustRefuseRefused++
			}
		} else {
			s.Answerable++
			if cr.Correct {
				s.AnswerableRight++
			}
		}
		s.ToolCalls += cr.Attempt.ToolCalls
		s.Tokens += cr.Attempt.Tokens
		lat[s] = append(lat[s], cr.Latency)
	}
	r.Overall = &Score{}
	for i := range results {
		cr := &results[i]
		c := cr.Case
		if cr.Skipped != "" {
			r.Skipped = append(r.Skipped, Skip{ID: c.ID, Reason: cr.Skipped})
			continue
		}
		for _, m := range []struct {
			set map[string]*Score
			key string
		}{{r.Splits, c.Split}, {r.Intents, c.Intent}} {
			s := m.set[m.key]
			if s == nil {
				s = &Score{}
				m.set[m.key] = s
			}
			add(s, cr)
		}
		add(r.Overall, cr)
		if !cr.Correct {
			f := Failure{ID: c.ID, Split: c.Split, Intent: c.Intent, Question: c.Question, Context: c.Context,
				Expected: cr.Gold.String(), Got: cr.Got.String(), Verdict: cr.Verdict()}
			if cr.GotPlan != nil {
				f.GotPlan = cr.GotPlan
			}
			r.Failures = append(r.Failures, f)
		}
	}
	for s, ls := range lat {
		if s.Questions > 0 {
			s.Accuracy = float64(s.Correct) / float64(s.Questions)
			s.WrongRate = float64(s.Wrong) / float64(s.Questions)
		}
		sort.Slice(ls, func(a, b int) bool { return ls[a] < ls[b] })
		s.LatencyP50 = ms(ls[(len(ls)-1)/2])
		s.LatencyP95 = ms(ls[(len(ls)-1)*95/100])
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteJSON writes r as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes r for people: each split, each intent, then the
// failing questions with what was expected and what came back.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "MODE %s\n\nSPLIT\tQUESTIONS\tRIGHT\tWRONG\tREFUSED\tACCURACY\tWRONG RATE\tANSWERABLE RIGHT\tMUST-REFUSE REFUSED\tP50 MS\tP95 MS\n", r.Mode)
	row := func(name string, s *Score) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f%%\t%.1f%%\t%s\t%s\t%.2f\t%.2f\n", name, s.Questions, s.Right, s.Wrong, s.Refused,
			100*s.Accuracy, 100*s.WrongRate, ratio(s.AnswerableRight, s.Answerable), ratio(s.MustRefuseRefused, s.MustRefuse), s.LatencyP50, s.LatencyP95)
	}
	for _, name := range sortedKeys(r.Splits) {
		row(name, r.Splits[name])
	}
	row("all", r.Overall)
	fmt.Fprintf(tw, "\nINTENT\tQUESTIONS\tRIGHT\tWRONG\tREFUSED\tACCURACY\n")
	for _, name := range sortedKeys(r.Intents) {
		s := r.Intents[name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f%%\n", name, s.Questions, s.Right, s.Wrong, s.Refused, 100*s.Accuracy)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nSKIPPED (%d, not scored on this graph)\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "%s %s\n", s.ID, s.Reason)
		}
	}
	if len(r.Failures) == 0 {
		_, err := fmt.Fprintln(w, "\nNo failures.")
		return err
	}
	fmt.Fprintf(w, "\nFAILURES (%d)\n", len(r.Failures))
	for _, f := range r.Failures {
		q := f.Question
		if len(f.Context) > 0 {
			q = strings.Join(f.Context, " → ") + " → " + q
		}
		fmt.Fprintf(w, "%s [%s/%s] %s %q\n    expected: %s\n    got:      %s\n", f.ID, f.Split, f.Intent, f.Verdict, q, f.Expected, f.Got)
	}
	return nil
}

// ratio prints n/d with its percentage, or "-" when d is zero.
func ratio(n, d int) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", n, d, 100*float64(n)/float64(d))
}

func sortedKeys(m map[string]*Score) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
