// Package eval measures how well Steward answers analysts' questions. The
// question set lives in questions/*.jsonl: each case is a question, its
// intent, its split (dev, tuned, or heldout, which the planner is never
// tuned on) and a gold query plan written by hand. Scoring is execution
// accuracy: the gold plan and the answerer's plan both run on the same
// demo organisation and must give the same rows (the same ids, or the same
// group counts for aggregates), the same total for "how many" questions,
// the same did-you-mean suggestions for misspelt names, or a refusal
// where the gold is a refusal.
package eval

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/steward-oss/steward/query"
)

// Splits. Tuned is the first held-out split: written before any tuning,
// but its failures were read while the planner was tuned, so it no longer
// measures questions the planner has not seen. Heldout is the fresh split
// that replaced it, committed before the planner changes it measures.
const (
	SplitDev     = "dev"
	SplitTuned   = "tuned"
	SplitHeldout = "heldout"
)

// Splits lists every split, in report order.
var Splits = []string{SplitDev, SplitTuned, SplitHeldout}

// Expected outcomes other than rows.
const (
	ExpectRefusal  = "refusal"
	ExpectNotFound = "not_found"
)

// AnswerCount marks a "how many" question: only the total is compared.
const AnswerCount = "count"

// Case is one question of the set.
type Case struct {
	ID       string `json:"id"`
	Split    string `json:"split"`
	Intent   string `json:"intent"`
	Question string `json:"question"`
	// Context holds the earlier questions of the same conversation, oldest
	// first; the case is a follow-up when it is non-empty.
	Context []string `json:"context,omitempty"`
	// Gold is the hand-written plan; null when the gold is a refusal.
	Gold json.RawMessage `json:"gold"`
	// Answer is "count" when only the number of matches is asked.
	Answer string `json:"answer,omitempty"`
	// Expect is "refusal" or "not_found" when the gold outcome is not rows;
	// the gold plan of a not_found case must fail to resolve its entity.
	Expect string `json:"expect,omitempty"`

	// File and Line locate the case for error messages.
	File string `json:"-"`
	Line int    `json:"-"`
	plan *query.Plan
}

// GoldPlan returns the parsed gold plan (nil for refusals).
func (c *Case) GoldPlan() *query.Plan {
	if c.plan == nil {
		return nil
	}
	p := *c.plan
	return &p
}

//go:embed questions/*.jsonl
var questions embed.FS

// Load returns the built-in question set, every case validated.
func Load() ([]Case, error) {
	return LoadFS(questions, "questions")
}

// LoadFS reads every *.jsonl file under dir of fsys.
func LoadFS(fsys fs.FS, dir string) ([]Case, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("eval: list %s: %w", dir, err)
	}
	sort.Strings(names)
	var out []Case
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("eval: read %s: %w", name, err)
		}
		cs, err := Parse(bytes.NewReader(data), path.Base(name))
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, dup := seen[c.ID]; dup {
				return nil, fmt.Errorf("eval: %s:%d: id %q already used in %s", c.File, c.Line, c.ID, prev)
			}
			seen[c.ID] = fmt.Sprintf("%s:%d", c.File, c.Line)
		}
		out = append(out, cs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("eval: no questions under %s", dir)
	}
	return out, nil
}

// Parse reads JSON lines of cases from r (named name in errors). Nothing is
// returned unless every case is valid.
func Parse(r io.Reader, name string) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Case
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var c Case
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("eval: %s:%d: %w", name, line, err)
		}
		c.File, c.Line = name, line
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("eval: %s:%d: %w", name, line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", name, err)
	}
	return out, nil
}

func (c *Case) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("id: empty")
	case !slices.Contains(Splits, c.Split):
		return fmt.Errorf("split: want one of %s, got %q", strings.Join(Splits, ", "), c.Split)
	case c.Intent == "":
		return fmt.Errorf("intent: empty")
	case strings.TrimSpace(c.Question) == "":
		return fmt.Errorf("question: empty")
	case c.Answer != "" && c.Answer != AnswerCount:
		return fmt.Errorf("answer: want %q or nothing, got %q", AnswerCount, c.Answer)
	}
	refusal := len(c.Gold) == 0 || string(c.Gold) == "null"
	switch c.Expect {
	case ExpectRefusal:
		if !refusal {
			return fmt.Errorf("gold: a refusal has no gold plan")
		}
		return nil
	case "", ExpectNotFound:
	default:
		return fmt.Errorf("expect: want %q, %q or nothing, got %q", ExpectRefusal, ExpectNotFound, c.Expect)
	}
	if refusal {
		return fmt.Errorf("gold: missing (set expect %q for a refusal)", ExpectRefusal)
	}
	p, err := query.Parse(c.Gold)
	if err != nil {
		return fmt.Errorf("gold: %w", err)
	}
	c.plan = p
	return nil
}
