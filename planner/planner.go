// Package planner is Steward's offline question planner: it turns an
// analyst's question into a query.Plan deterministically, without any
// model. It normalises the text (numbers, units, synonyms), matches an
// intent and its slots, resolves entity names against the graph, and
// refuses plainly — with example questions — when it cannot map a
// question, rather than guessing. Every word must be accounted for
// (coverage.go): a question with words the plan does not use is refused,
// naming them, so no condition is dropped silently. Describe states any
// plan in words.
package planner

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/query"
)

// Examples are questions the planner answers; shown when it cannot map one.
var Examples = []string{
	"admins idle 30 days",
	"service accounts with no owner",
	"identities whose owner left",
	"keys older than 90 days",
	"what can ci-deployer access",
	"who can read secrets",
	"credentials expiring in 14 days",
	"count identities by source",
}

// ErrUnmapped is returned (wrapped in *UnmappedError) when the planner
// cannot map a question to a plan.
var ErrUnmapped = errors.New("question not understood")

// UnmappedError says why a question was not mapped and what works.
type UnmappedError struct {
	Question string
	Reason   string
	// Understood describes what the planner did understand, when some
	// of the question mapped ("admin privilege, idle ≥ 30 days").
	Understood string
	// Unknown are the words it could not use, as phrases of adjacent
	// words ("berlin office").
	Unknown []string
}

func (e *UnmappedError) Error() string {
	if len(e.Unknown) > 0 {
		msg := ""
		if e.Understood != "" {
			msg = "I understood: " + e.Understood + "; "
		}
		what := "what %s refers to"
		if len(e.Unknown) > 1 {
			what = "what %s refer to"
		}
		msg += "I don't know " + fmt.Sprintf(what, quoteList(e.Unknown)) +
			", so I did not answer: an answer without it would not answer the question asked. Try questions like:\n  - "
		return msg + strings.Join(Examples, "\n  - ")
	}
	return fmt.Sprintf("I could not map %q to a query (%s). Try questions like:\n  - %s",
		e.Question, e.Reason, strings.Join(Examples, "\n  - "))
}

func (e *UnmappedError) Unwrap() error { return ErrUnmapped }

// Understanding is a planned question: the plan, and the words the
// planner read as others (typos), to be shown with the answer.
type Understanding struct {
	Plan        *query.Plan
	Corrections []Correction
}

// Plan maps question to a plan. prev, when non-nil, is the previous plan
// of the conversation, used for follow-ups ("and which of those are in
// prod?"). The returned plan is validated, and accounts for every word of
// the question (see coverage.go): a question with words the planner
// cannot use is refused, never answered without them.
func Plan(question string, prev *query.Plan) (*query.Plan, error) {
	u, err := understand(question, prev, time.Now())
	if err != nil {
		return nil, err
	}
	return u.Plan, nil
}

// understand plans question; now resolves the relative times of change
// questions ("since yesterday").
func understand(question string, prev *query.Plan, now time.Time) (*Understanding, error) {
	q := normalize(question)
	p, ents, err := planText(question, q, prev, now)
	var um *UnmappedError
	if err != nil && (!errors.As(err, &um) || um.Reason != reasonUnrecognised) {
		return nil, err
	}
	var unknown []string
	if p != nil {
		unknown = coverage(q, p, prev, ents)
		if len(unknown) == 0 {
			return &Understanding{Plan: p}, nil
		}
	}
	// Typos: words the vocabulary lacks, read as the closest word it has
	// when exactly one is close. The corrected question must then be
	// understood whole.
	words := strings.Fields(q)
	var fixes []Correction
	for i, w := range words {
		if fillers[w] || vocabWord(w) || (p != nil && !slices.Contains(unknownWords(unknown), w)) {
			continue
		}
		if to, ok := correct(w); ok {
			fixes = append(fixes, Correction{From: w, To: to})
			words[i] = to
		}
	}
	if len(fixes) > 0 {
		q2 := strings.Join(words, " ")
		if p2, ents2, err2 := planText(question, q2, prev, now); err2 == nil {
			if rest := coverage(q2, p2, prev, ents2); len(rest) == 0 {
				return &Understanding{Plan: p2, Corrections: fixes}, nil
			}
		}
	}
	if p == nil {
		return nil, err
	}
	return nil, &UnmappedError{Question: question, Reason: "words not understood", Understood: Describe(p, DescribeOptions{}), Unknown: unknown}
}

func unknownWords(phrases []string) []string {
	var out []string
	for _, ph := range phrases {
		out = append(out, strings.Fields(ph)...)
	}
	return out
}

// vocabWord reports whether w is a word of the planner's vocabulary.
func vocabWord(w string) bool {
	_, ok := slices.BinarySearch(vocabulary(), w)
	return ok
}

const reasonUnrecognised = "no identity kind, source, condition or access question recognised"

// planText plans the normalised question q; it also returns the entity
// names the plan takes from q, as written there.
func planText(question, q string, prev *query.Plan, now time.Time) (*query.Plan, []string, error) {
	if q == "" {
		return nil, nil, &UnmappedError{Question: question, Reason: "empty question"}
	}
	// "remove the bots" after a listing narrows it; anywhere else it is
	// a request to act.
	if prev != nil && removeRE.MatchString(q) {
		if _, excl := exclusions(removeRE.ReplaceAllString(q, "exclude")); len(excl) > 0 {
			q = removeRE.ReplaceAllString(q, "exclude")
		}
	}
	if m := actionRE.FindStringSubmatch(q); m != nil {
		return nil, nil, &UnmappedError{Question: question, Reason: fmt.Sprintf("%q is an action; Steward answers questions here and changes nothing (ask which identities to %s, then propose a remediation for approval)", m[1], m[1])}
	}
	var p *query.Plan
	var ok bool
	switch {
	case prev != nil && prev.Changes != nil && isFollowUp(q):
		p, ok = changeFollowUp(q, prev)
	case prev != nil && isFollowUp(q):
		p, ok = followUp(q, prev)
	default:
		if p, ok = parseChanges(q, now); ok {
			break
		}
		p, ok = parse(q)
		// "how many are there by source" names no subject of its own: in
		// a conversation it is about the previous result.
		if ok && prev != nil && subjectless(p) && !has(q, subjectWords...) {
			p, ok = followUp(q, prev)
		}
	}
	if !ok {
		return nil, nil, &UnmappedError{Question: question, Reason: reasonUnrecognised}
	}
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("planner: %w", err)
	}
	var ents []string
	if p.Reach != nil && (prev == nil || prev.Reach == nil || prev.Reach.From != p.Reach.From) {
		ents = append(ents, p.Reach.From)
	}
	if e := escalationEntity(p); e != "" {
		ents = append(ents, e)
	}
	if p.WhoCan != nil {
		ents = append(ents, p.WhoCan.Resource)
		if a := strings.Trim(p.WhoCan.Action, "*"); a != "" {
			ents = append(ents, a)
		}
	}
	return p, ents, nil
}

// removeRE is "remove"/"drop" at the start of a follow-up.
var removeRE = regexp.MustCompile(`^(?:and |now |also )?(?:remove|drop|take out)\b`)

// subjectWords name a fresh subject even without kinds or conditions.
var subjectWords = []string{"identities", "identity", "nhi", "nhis", "everything", "all", "machine identities", "non-human identities"}

// subjectless reports whether p only counts, groups or sorts: no kinds,
// sources, conditions or access question of its own.
func subjectless(p *query.Plan) bool {
	return p.Reach == nil && p.WhoCan == nil && len(p.Kinds) == 0 && len(p.Sources) == 0 && len(p.Filters) == 0
}

// actionRE matches requests to change something rather than questions:
// the planner never turns them into a listing that looks like consent.
var actionRE = regexp.MustCompile(`^(?:please |can you |could you |go |now )?(rotate|disable|delete|remove|revoke|deactivate|suspend|terminate|kill|approve|reject|enable|reset|grant|create|add|fix|purge|wipe|lock|unlock)\b`)

var numberWords = map[string]string{
	"a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
	"fourteen": "14", "fifteen": "15", "twenty": "20", "thirty": "30", "sixty": "60", "ninety": "90",
	"a couple of": "2", "couple of": "2", "a few": "3", "several": "3", "half a": "0.5",
}

var spaceRE = regexp.MustCompile(`\s+`)

// possessiveRE is a word's "'s" ("terraform's", "team's").
var possessiveRE = regexp.MustCompile(`([a-z0-9])'s\b`)

// normalize lower-cases, strips punctuation that carries no meaning and
// rewrites number words to digits.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("?", " ", "!", " ", ",", " ", ";", " ", "’", "'", "\"", " ", "“", " ", "”", " ").Replace(s)
	// Possessives name their owner: "terraform's permissions".
	s = possessiveRE.ReplaceAllString(s, "$1")
	s = strings.TrimRight(strings.TrimSpace(s), ".")
	s = " " + spaceRE.ReplaceAllString(s, " ") + " "
	// Longest phrases first so "a couple of" wins over "a".
	for _, w := range []string{"a couple of", "couple of", "a few", "half a", "several"} {
		s = strings.ReplaceAll(s, " "+w+" ", " "+numberWords[w]+" ")
	}
	words := strings.Fields(s)
	for i, w := range words {
		if d, ok := numberWords[w]; ok && i+1 < len(words) && isUnit(words[i+1]) {
			words[i] = d
		}
	}
	return strings.Join(words, " ")
}

func isUnit(w string) bool {
	_, ok := unitDays[strings.TrimSuffix(w, "s")]
	return ok
}

var unitDays = map[string]float64{
	"day": 1, "d": 1, "week": 7, "w": 7, "wk": 7, "month": 30, "mo": 30, "m": 30, "year": 365, "y": 365, "yr": 365,
	"quarter": 90, "fortnight": 14,
}

// periodPhrases are durations without a number, checked in order.
var periodPhrases = []struct {
	phrase string
	days   float64
}{
	{"last month", 30}, {"past month", 30}, {"a month", 30}, {"last week", 7}, {"past week", 7},
	{"last year", 365}, {"past year", 365}, {"last quarter", 90},
	{"this week", 7}, {"next week", 7}, {"this month", 30}, {"next month", 30}, {"this quarter", 90}, {"next quarter", 90},
	{"this year", 365}, {"next year", 365},
	{"fortnight", 14}, {"quarter", 90},
}

var durationRE = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\+?\s*(days?|d|weeks?|wks?|w|months?|mos?|years?|yrs?|y|quarters?|fortnights?)\b`)

// duration finds the first "N unit" in s and returns days.
func duration(s string) (float64, bool) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		for _, pd := range periodPhrases {
			if strings.Contains(s, pd.phrase) {
				return pd.days, true
			}
		}
		return 0, false
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	u := strings.TrimSuffix(m[2], "s")
	return n * unitDays[u], true
}

func has(s string, words ...string) bool {
	for _, w := range words {
		if containsWord(s, w) {
			return true
		}
	}
	return false
}

// containsWord matches w at word boundaries (w may be a phrase).
func containsWord(s, w string) bool {
	s = " " + s + " "
	for _, suffix := range []string{" ", "s ", "es "} {
		if strings.Contains(s, " "+w+suffix) {
			return true
		}
	}
	return false
}
