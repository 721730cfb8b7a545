package planner

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/sources"
	"github.com/steward-oss/steward/query"
)

// Coverage accounting. Parsing matches the phrases it knows and would,
// on its own, ignore the rest: "admins idle 30 days in the eu-west-1
// region" would answer without the region. So after a plan is built, every
// word of the question must be accounted for: consumed by a vocabulary
// term the plan actually uses (a kind, source, condition, number, entity,
// intent), or a known filler word. A word left over means the plan is not
// the question, and the planner refuses, saying what it understood and
// which words it could not use.
//
// A term only consumes its words when the plan contains what the term
// stands for, so a condition the parser failed to apply ("not acted on"
// with no idle filter) leaves its words unconsumed and is never dropped
// silently. Negations (not, no, never, without, n't) are never filler: a
// negated phrase is consumed only by a term that reads it as a negation.
//
// Adding an intent is local: a parse rule that builds the plan, and one
// entry in terms (below) naming its phrases and how to see them in a plan.

// term is one entry of the planner's vocabulary.
type term struct {
	name    string
	phrases []string
	// used reports whether the plan contains what the phrases express.
	used func(c *coverCtx) bool
}

// coverCtx is what terms look at.
type coverCtx struct {
	q    string // normalised question
	p    *query.Plan
	prev *query.Plan
	// holder is set when the rows are credentials of the identities the
	// question names ("service accounts with keys older than 90 days").
	holder bool
}

func (c *coverCtx) filter(field string, ops ...string) bool {
	for _, f := range c.p.Filters {
		if f.Field == field && (len(ops) == 0 || slices.Contains(ops, f.Op)) {
			return true
		}
	}
	return false
}

func (c *coverCtx) filterValue(field string, v any) bool {
	for _, f := range c.p.Filters {
		if f.Field == field && (f.Value == v || slices.Contains(f.Values, v)) {
			return true
		}
	}
	return false
}

func (c *coverCtx) hasKind(ks ...graph.Kind) bool {
	for _, k := range ks {
		if slices.Contains(c.p.Kinds, k) {
			return true
		}
	}
	for _, f := range c.p.Filters {
		if f.Field == "kind" {
			for _, k := range ks {
				if slices.Contains(f.Values, any(string(k))) || f.Value == string(k) {
					return true
				}
			}
		}
	}
	return false
}

func (c *coverCtx) hasSource(src string) bool {
	return slices.Contains(c.p.Sources, src) || c.filterValue("source_type", src)
}

func (c *coverCtx) privilege(pr graph.Privilege, op string) bool {
	if c.p.WhoCan != nil && c.p.WhoCan.Privilege == pr {
		return true
	}
	for _, f := range c.p.Filters {
		if f.Field == "privilege" && f.Value == string(pr) && (op == "" || f.Op == op) {
			return true
		}
	}
	return false
}

// fillers are words that carry no condition of their own.
var fillers = wordSet(`a an the any all every some of in on at to for from by with within into onto over under about
	is are was were be been being am do does did done has have had having get got
	what which who whom whose where when how why that this these those there here it its they them their theirs
	i me my we us our you your please show list find give display tell see let lets let's can could would should will may might
	and or also just only then than still currently now today right ever yet already even really actually
	more most much many each per across among as like such other
	so up out off into
	one ones thing things stuff
	ago last past next since recent recently before after
	exist exists existing exact exactly
	me? total`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// terms is the planner's vocabulary, checked for coverage. Each entry
// mirrors a parse rule. It is built on first use, after every connector
// has registered its words.
var terms = sync.OnceValue(buildTerms)

func buildTerms() []term {
	var ts []term
	for _, kw := range kindWords {
		kw := kw
		ts = append(ts, term{name: "kind", phrases: kw.words, used: func(c *coverCtx) bool {
			switch {
			case kw.kinds == nil:
				return true // "identities": the subject, whatever its kinds
			case kw.subtype != "":
				return c.filterValue("subtype", kw.subtype) || (c.holder && c.hasKind(graph.KindCredential))
			}
			if c.hasKind(kw.kinds...) {
				return true
			}
			// "AWS roles" are planned as IAM-role service accounts.
			if slices.Contains(kw.kinds, graph.KindRole) && c.filterValue("subtype", "iam_role") {
				return true
			}
			// The holders of the credentials asked about.
			return c.holder && c.hasKind(graph.KindCredential)
		}})
	}
	for _, src := range sources.All() {
		if len(src.Words) > 0 {
			name := src.Name
			ts = append(ts, term{name: "source", phrases: src.Words, used: func(c *coverCtx) bool { return c.hasSource(name) }})
		}
	}
	cond := func(name string, phrases []string, used func(c *coverCtx) bool) {
		ts = append(ts, term{name: name, phrases: phrases, used: used})
	}
	cond("idle", append(slices.Clone(idleWords), "used", "use", "activity", "active", "acted on", "logged in", "sat", "sitting", "been"),
		func(c *coverCtx) bool { return c.filter("idle_days") })
	// "older than 6 months of inactivity" is idleness, not age.
	cond("idle age", []string{"older than", "older", "inactivity", "of inactivity"}, func(c *coverCtx) bool {
		return c.filter("idle_days") && !c.filter("age_days") && strings.Contains(c.q, "of inactivity")
	})
	cond("never used", append(slices.Clone(neverWords), "never", "used", "logged in", "recorded", "use"),
		func(c *coverCtx) bool { return c.filter("never_used") })
	cond("rotation", append(slices.Clone(rotateWords), "rotate", "last rotated", "overdue"),
		func(c *coverCtx) bool { return c.filter("rotated_days") })
	cond("no expiry", noExpiryWords, func(c *coverCtx) bool { return c.filter("expires_in_days", "not_exists") })
	cond("expired", append(slices.Clone(expiredWords), "expiry date", "expiration date", "date"),
		func(c *coverCtx) bool { return c.filter("expires_in_days", "lt") })
	cond("expiring", append(slices.Clone(expireWords), "will expire", "going to expire", "due to expire", "about to", "soon"),
		func(c *coverCtx) bool { return c.filter("expires_in_days", "lte") })
	cond("age", append(slices.Clone(ageWords), "older", "created", "made", "issued", "then"),
		func(c *coverCtx) bool { return c.filter("age_days") })
	cond("admin", append(slices.Clone(adminWords), "rights", "privileges", "privilege", "permissions", "access", "level"),
		func(c *coverCtx) bool { return c.privilege(graph.PrivAdmin, "") })
	// Escalation questions (planner/escalation.go).
	cond("escalation", []string{"become", "becomes", "escalate", "escalate to", "privileges", "make itself", "make themselves",
		"turn into", "get to", "able to", "is there a way for", "admin", "administrator", "admins", "administrators"},
		func(c *coverCtx) bool { return c.filter(escalationField) })
	cond("read only", readOnlyWords, func(c *coverCtx) bool { return c.privilege(graph.PrivRead, "eq") })
	cond("write", append(slices.Clone(writeWords), "permissions", "permission", "rights", "privileges", "access"),
		func(c *coverCtx) bool { return c.privilege(graph.PrivWrite, "") })
	cond("departed", departedWords, func(c *coverCtx) bool { return c.filterValue("owner_status", "departed") })
	cond("no owner", noOwnerWords, func(c *coverCtx) bool { return c.filterValue("owner_status", "absent") })
	cond("owner", []string{"owner", "owned", "owned by", "belong to", "belonging to", "belongs to", "whose", "person", "people", "employee", "staff", "company", "organisation", "organization", "us", "missing", "is missing", "nobody owning", "owning", "own", "owns"},
		func(c *coverCtx) bool { return c.filter("owner_status") || c.filter("owner") || c.filter("team") })
	cond("leaked", append(slices.Clone(leakWords), "found in", "git", "repo", "repository", "scan", "scanner", "leak"),
		func(c *coverCtx) bool { return c.filter("leaked") })
	cond("disabled", disabledWords, func(c *coverCtx) bool { return c.filterValue("status", "disabled") })
	cond("active", append(slices.Clone(activeWords), notDisabledWords...), func(c *coverCtx) bool { return c.filterValue("status", "active") })
	var envs []string
	for _, ew := range envWords {
		envs = append(envs, ew.word)
	}
	// An environment narrows the name of the role to assume ("terraform-apply
	// in staging"): PlanWith resolves it there.
	cond("environment", append(envs, "environment", "env", "environments"), func(c *coverCtx) bool {
		return c.filter("environment") || (c.p.WhoCan != nil && c.p.WhoCan.Action == "assume")
	})
	cond("team", []string{"team", "teams", "team's", "own", "owns", "owned by"}, func(c *coverCtx) bool { return c.filter("team") || slices.Contains(c.p.GroupBy, "team") })
	cond("account", []string{"account", "aws account"}, func(c *coverCtx) bool { return c.filter("account") })
	cond("count", append(slices.Clone(countWords), "are there", "break down", "broken down", "grouped", "group", "split", "each", "distribution", "summary", "summarise", "summarize", "break", "down", "breakdown"),
		func(c *coverCtx) bool { return len(c.p.GroupBy) > 0 || c.p.Limit > 0 && false })
	cond("group field", []string{"source type", "source", "sources", "subtype", "kind", "type", "types", "owner status", "status", "privilege", "environment", "env", "cloud", "clouds", "system", "systems", "platform", "account", "provider", "providers", "cloud provider"},
		func(c *coverCtx) bool { return len(c.p.GroupBy) > 0 })
	cond("exclusion", []string{"exclude", "excluding", "except", "except for", "other than", "but not", "apart from", "besides", "not in", "outside", "outside of", "leave out", "leaving out", "ignore", "ignoring", "skip", "remove", "drop", "take out"},
		func(c *coverCtx) bool {
			return c.filter("source_type", "not_in") || c.filter("kind", "not_in") || c.filter("environment", "ne")
		})
	cond("sort", []string{"sort", "sorted", "order", "ordered", "rank", "ranked", "oldest", "newest", "latest", "most recently created", "longest idle", "most idle", "least recently used", "soonest", "closest to expiry", "first", "desc", "descending", "asc", "ascending", "name", "last use", "last used", "recency", "time", "idle time", "date", "by"},
		func(c *coverCtx) bool { return len(c.p.Sort) > 0 })
	cond("limit", []string{"top", "first", "limit", "limit to", "only show", "just show"}, func(c *coverCtx) bool { return c.p.Limit > 0 })
	cond("reach", reachTemplateWords, func(c *coverCtx) bool { return c.p.Reach != nil })
	cond("who can", whoCanTemplateWords, func(c *coverCtx) bool { return c.p.WhoCan != nil })
	cond("follow-up", append(slices.Clone(followUpWords), "and", "but", "also", "then", "ok", "okay", "now", "only", "just", "what about", "how about", "narrow", "filter", "same", "ones", "of those", "of them", "among", "which of"),
		func(c *coverCtx) bool { return c.prev != nil })
	// Change questions (planner/changes.go).
	cond("changes", changeTermWords, func(c *coverCtx) bool { return c.p.Changes != nil })
	cond("machine", []string{"machine", "non-human", "nonhuman"}, func(c *coverCtx) bool { return true })
	return ts
}

// notDisabledWords negate "disabled": the credential is still usable.
var notDisabledWords = []string{"not disabled", "haven't been disabled", "hasn't been disabled", "have not been disabled", "has not been disabled",
	"not been disabled", "not yet disabled", "never disabled", "never been disabled", "weren't disabled", "wasn't disabled", "aren't disabled", "isn't disabled",
	"not revoked", "haven't been revoked", "hasn't been revoked", "not deactivated", "haven't been deactivated"}

// reachTemplateWords are the words of "what can X access" questions.
var reachTemplateWords = []string{"access", "reach", "touch", "do", "see", "read", "modify", "get to", "get into", "go", "have access to",
	"everything", "resources", "systems", "blast radius", "permissions", "permission", "rights", "privileges", "grants", "roles", "able", "allowed",
	"permitted", "entitled", "capable", "has", "hold"}

// whoCanTemplateWords are the words of "who can X on Y" questions.
var whoCanTemplateWords = []string{"who", "able", "assume", "become", "impersonate", "access", "rights", "permission", "permissions", "privilege",
	"privileges", "cluster-wide", "cluster wide", "across the cluster", "all namespaces", "namespaces", "anything", "everything", "role", "full",
	"read", "view", "see", "get", "list", "write", "modify", "change", "update", "push", "deploy", "edit", "administer", "admin", "control",
	"manage", "own", "delete", "create", "exec", "repository", "repo", "bucket", "table", "database", "db", "namespace", "project", "secret",
	"queue", "topic", "dataset", "account"}

// coverage returns the words of q the plan p does not account for, as
// phrases of adjacent words ("berlin office").
func coverage(q string, p *query.Plan, prev *query.Plan, entities []string) []string {
	toks := tokens(q)
	if len(toks) == 0 {
		return nil
	}
	used := make([]bool, len(toks))
	c := &coverCtx{q: q, p: p, prev: prev}
	_, c.holder = credentialRows(q)
	for _, t := range terms() {
		if !t.used(c) {
			continue
		}
		for _, ph := range t.phrases {
			markPhrase(toks, used, ph)
		}
	}
	// Entities the plan names (as written in the question).
	for _, e := range entities {
		markPhrase(toks, used, e)
	}
	markNumbers(q, toks, used, p)
	for _, ap := range attrPhrases {
		if !slices.ContainsFunc(p.Filters, func(f query.Filter) bool {
			return slices.ContainsFunc(ap.filters, func(g query.Filter) bool { return g.Field == f.Field })
		}) {
			continue
		}
		if loc := ap.re.FindStringIndex(q); loc != nil {
			markSpan(q, toks, used, loc)
		}
	}
	for _, f := range p.Filters {
		switch f.Field {
		case "owner", "team":
			if s, ok := f.Value.(string); ok {
				markPhrase(toks, used, s)
			}
		case "account":
			if s, ok := f.Value.(string); ok {
				markPhrase(toks, used, strings.TrimPrefix(s, "aws:"))
			}
		}
	}
	var out []string
	var cur []string
	for i, t := range toks {
		if used[i] || fillers[t.w] {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, " "))
				cur = nil
			}
			continue
		}
		cur = append(cur, t.w)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, " "))
	}
	return out
}

// tok is a word of the question and where it starts.
type tok struct {
	w     string
	start int
}

var tokRE = regexp.MustCompile(`[^\s]+`)

func tokens(q string) []tok {
	var out []tok
	for _, loc := range tokRE.FindAllStringIndex(q, -1) {
		w := strings.TrimRight(q[loc[0]:loc[1]], ".:")
		if w == "" || w == "-" {
			continue
		}
		out = append(out, tok{w: w, start: loc[0]})
	}
	return out
}

// markPhrase marks every occurrence of phrase (a word sequence; the last
// word may take a plural ending, "identit" any ending) in toks.
func markPhrase(toks []tok, used []bool, phrase string) {
	pw := strings.Fields(phrase)
	if len(pw) == 0 {
		return
	}
	for i := 0; i+len(pw) <= len(toks); i++ {
		ok := true
		for j, w := range pw {
			if !wordMatch(w, toks[i+j].w, j == len(pw)-1) {
				ok = false
				break
			}
		}
		if ok {
			for j := range pw {
				used[i+j] = true
			}
		}
	}
}

func wordMatch(p, w string, last bool) bool {
	if p == w {
		return true
	}
	if strings.HasSuffix(p, "identit") && strings.HasPrefix(w, p) {
		return true
	}
	if last && (w == p+"s" || w == p+"es" || w == p+"'s") {
		return true
	}
	return false
}

// markSpan marks the tokens inside q[loc[0]:loc[1]].
func markSpan(q string, toks []tok, used []bool, loc []int) {
	for i, t := range toks {
		if t.start >= loc[0] && t.start < loc[1] {
			used[i] = true
		}
	}
}

// markNumbers marks the durations, counts and limits the plan uses.
func markNumbers(q string, toks []tok, used []bool, p *query.Plan) {
	dayFilter := func(d float64) bool {
		for _, f := range p.Filters {
			switch f.Field {
			case "idle_days", "age_days", "rotated_days", "expires_in_days", "last_used_days":
				if v, ok := toFloat(f.Value); ok && v == d {
					return true
				}
			}
		}
		return false
	}
	for _, loc := range durationRE.FindAllStringSubmatchIndex(q, -1) {
		n, _ := strconv.ParseFloat(q[loc[2]:loc[3]], 64)
		u := strings.TrimSuffix(q[loc[4]:loc[5]], "s")
		if dayFilter(n * unitDays[u]) {
			markSpan(q, toks, used, loc[:2])
		}
	}
	for _, pd := range periodPhrases {
		if dayFilter(pd.days) {
			markPhrase(toks, used, pd.phrase)
		}
	}
	for _, u := range []string{"day", "week", "month", "quarter", "year", "fortnight"} {
		if dayFilter(unitDays[u]) {
			markPhrase(toks, used, u)
		}
	}
	if p.Limit > 0 {
		markPhrase(toks, used, strconv.Itoa(p.Limit))
	}
	// A change plan's window: "last 7 days", "last 24 hours", "since
	// 2026-10-28".
	if p.Changes != nil && !p.Changes.LastSync {
		for _, re := range []*regexp.Regexp{durationRE, hoursRE, sinceDateRE} {
			for _, loc := range re.FindAllStringIndex(q, -1) {
				markSpan(q, toks, used, loc)
			}
		}
	}
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// vocabulary lists the single words of every term and filler, for typo
// correction.
var vocabulary = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if len(w) >= 3 && !seen[w] && !strings.ContainsAny(w, "'") {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, t := range terms() {
		for _, ph := range t.phrases {
			ws := strings.Fields(ph)
			for i, w := range ws {
				if strings.HasSuffix(w, "identit") {
					add(w + "y")
					w += "ies"
				}
				add(w)
				if i == len(ws)-1 && !strings.HasSuffix(w, "s") {
					add(w + "s")
				}
			}
		}
	}
	for w := range fillers {
		if len(w) >= 4 {
			add(w)
		}
	}
	for w := range unitDays {
		add(w)
		add(w + "s")
	}
	slices.Sort(out)
	return out
})

// Correction is a word the planner read as another ("admnis → admins").
type Correction struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (c Correction) String() string { return c.From + " → " + c.To }

// correct returns the closest vocabulary word to w when one is clearly
// closest: edit distance 1 (2 for words of 8 letters or more), counting a
// swap of two letters as one edit, and no other word as close.
func correct(w string) (string, bool) {
	if len(w) < 4 || strings.ContainsAny(w, "0123456789:/@_.") {
		return "", false
	}
	max := 1
	if len(w) >= 8 {
		max = 2
	}
	bestD := max + 1
	var best []string
	for _, v := range vocabulary() {
		if abs(len(v)-len(w)) > max {
			continue
		}
		d := osa(w, v)
		switch {
		case d < bestD:
			best, bestD = []string{v}, d
		case d == bestD:
			best = append(best, v)
		}
	}
	if bestD > max || bestD == 0 {
		return "", false
	}
	// Typing rarely gets the first letter wrong: between equally close
	// words, the one that starts like w wins ("acounts" is "accounts",
	// not "counts").
	if len(best) > 1 {
		best = slices.DeleteFunc(best, func(v string) bool { return v[0] != w[0] })
	}
	if len(best) != 1 {
		return "", false
	}
	return best[0], true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// osa is the optimal string alignment distance: insertions, deletions,
// substitutions and swaps of adjacent letters.
func osa(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// quoteList renders phrases for a refusal: "berlin office", "region".
func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}
