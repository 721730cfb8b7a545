package planner

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

var (
	// "what can X access", "what does X have access to", "everything X can touch"
	reachREs = []*regexp.Regexp{
		regexp.MustCompile(`^(?:what|which (?:resources|things|systems))\s+(?:can|could)\s+(.+?)\s+(?:access|reach|touch|do|see|read|modify|get to|get into)\b(.*)$`),
		regexp.MustCompile(`^(?:what|which (?:resources|things|systems))\s+(?:does|do)\s+(.+?)\s+(?:have access to|have|reach|access|touch)\b(.*)$`),
		regexp.MustCompile(`^(?:show me |list |show )?(?:everything|all (?:the )?(?:resources|things|access))\s+(?:that\s+)?(.+?)\s+(?:can|could|has access to|have access to)\s*(?:access|reach|touch|do|see)?\b(.*)$`),
		regexp.MustCompile(`^(?:show me |show |list )?(?:the )?(?:access|permissions|reach|blast radius)\s+(?:of|for)\s+(.+?)()$`),
		regexp.MustCompile(`^(?:where|what) can (.+?) (?:go|get)\b(.*)$`),
		regexp.MustCompile(`^(?:show me |list )?what (?:permissions|access|rights|privileges|grants|roles) (?:does|do) (.+?) (?:have|hold|get)\b(.*)$`),
		regexp.MustCompile(`^what (?:is|are) (.+?) (?:allowed|permitted|able|entitled) to (?:do|access|touch|reach)\b(.*)$`),
		// "where can ci-deployer reach", "where does terraform have access"
		regexp.MustCompile(`^where (?:can|could|does|do) (.+?) (?:reach|go|get to|get|have access|access)\b(.*)$`),
		// "ci-deployer permissions", "terraform's access": one name, then
		// what it holds.
		regexp.MustCompile(`^(?:show (?:me )?|list )?(?:the )?([^ ]+?) (?:permissions|access|reach|blast radius|grants|privileges|rights|entitlements)()$`),
	}
	// "who can read secrets", "who has admin on X", "who can assume role X"
	whoCanRE     = regexp.MustCompile(`^(?:(?:which|what|list|show|show me)\s+(?:the\s+)?([a-z0-9 -]+?)|who|((?:(?:kubernetes|k8s|aws|gcp|entra|azure|github|okta|ldap|ad|postgres) )?(?:identities|principals|accounts|service accounts|bots|workloads|apps|nhis|machine identities|ai agents|agents)))\s+(?:that |which |who )?(?:can|could|is able to|are able to)\s+(.+)$`)
	whoHasRE     = regexp.MustCompile(`^(?:(?:which|what)\s+([a-z0-9 -]+?)|who)\s+(?:has|have)\s+(admin|write|read|full|any)?\s*(?:access|rights|permissions?|privileges?)?\s*(?:to|on|over|for|in)\s+(.+)$`)
	verbPrivWord = map[string]graph.Privilege{
		"read": graph.PrivRead, "view": graph.PrivRead, "see": graph.PrivRead, "access": graph.PrivRead, "get": graph.PrivRead, "list": graph.PrivRead,
		"write": graph.PrivWrite, "modify": graph.PrivWrite, "change": graph.PrivWrite, "update": graph.PrivWrite, "push": graph.PrivWrite,
		"deploy": graph.PrivWrite, "edit": graph.PrivWrite,
		"administer": graph.PrivAdmin, "admin": graph.PrivAdmin, "control": graph.PrivAdmin, "manage": graph.PrivAdmin, "own": graph.PrivAdmin,
	}
	fillerRE = regexp.MustCompile(`^(?:the|a|an|any|all|on|to|in|of)\s+`)
)

func parseReach(q string) (*query.Plan, bool) {
	for _, re := range reachREs {
		m := re.FindStringSubmatch(q)
		if m == nil {
			continue
		}
		entity := cleanEntity(m[1])
		if entity == "" || isPronoun(entity) || vocabWord(entity) {
			continue
		}
		p := &query.Plan{Version: query.Version, Reach: &query.Reach{From: entity}}
		rest := m[2]
		for _, ew := range envWords {
			if containsWord(rest, ew.word) {
				p.Filters = append(p.Filters, query.Filter{Field: "environment", Op: "eq", Value: ew.env})
				break
			}
		}
		return p, true
	}
	return nil, false
}

func parseWhoCan(q string) (*query.Plan, bool) {
	var verb, rest, subject string
	if m := whoHasRE.FindStringSubmatch(q); m != nil {
		subject, verb, rest = m[1], m[2], m[3]
		if verb == "" || verb == "any" {
			verb = "access"
		}
		if verb == "full" {
			verb = "admin"
		}
	} else if m := whoCanRE.FindStringSubmatch(q); m != nil {
		subject = m[1] + m[2]
		words := strings.Fields(m[3])
		verb, rest = words[0], strings.Join(words[1:], " ")
	} else {
		return nil, false
	}
	rest = stripTypeNoun(cleanEntity(rest))
	w := &query.WhoCan{}
	scope := ""
	// "cluster-wide", "in prod" qualify, they are not the resource.
	for _, qual := range []string{" cluster-wide", " cluster wide", " across the cluster", " in all namespaces"} {
		if strings.Contains(rest, qual) {
			rest = strings.TrimSpace(strings.ReplaceAll(rest, qual, ""))
			scope = "cluster"
		}
	}
	switch {
	case verb == "assume" || verb == "become" || verb == "impersonate":
		w.Action = "assume"
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "role "), "the role ")
		w.Resource = strings.TrimSuffix(strings.TrimSuffix(rest, " role"), " account")
	case strings.Contains(verb, ":") || strings.Contains(verb, "*") || strings.Count(verb, ".") >= 2:
		// An action as the source names it: s3:GetObject,
		// okta.users.manage, Directory.Read.All.
		w.Action = verb
		w.Resource = rest
	case verb == "delete" || verb == "create" || verb == "exec" || verb == "impersonate":
		w.Action = "*" + verb + "*"
		w.Resource = rest
	default:
		pr, ok := verbPrivWord[verb]
		if !ok {
			return nil, false
		}
		w.Privilege = pr
		w.Resource = rest
	}
	if w.Resource == "" || w.Resource == "anything" || w.Resource == "everything" {
		w.Resource = "*"
	}
	p := &query.Plan{Version: query.Version, WhoCan: w}
	if w.Action == "assume" {
		p.Kinds = []graph.Kind{graph.KindUser, graph.KindServiceAccount, graph.KindOAuthApp, graph.KindBot, graph.KindAIAgent, graph.KindWorkload, graph.KindRole, graph.KindAccount}
	}
	// "which service accounts can ..." asks about those kinds only.
	if kinds, _, ok := matchKinds(subject); ok && len(kinds) > 0 && kinds[0] != graph.KindCredential {
		p.Kinds = kinds
	}
	// "which AWS roles can ..." asks about that source only.
	if srcs := matchSources(subject); len(srcs) > 0 {
		p.Sources = srcs
	}
	if scope == "cluster" {
		w.Scope = "account"
		p.Sources = []string{"k8s"}
		p.Kinds = []graph.Kind{graph.KindWorkload, graph.KindServiceAccount}
		// "which service accounts" means Kubernetes ServiceAccounts, not
		// the control-plane users (kube-controller-manager, ...) the k8s
		// connector also models as service accounts.
		if kinds, _, ok := matchKinds(subject); ok && (slices.Contains(kinds, graph.KindWorkload) || slices.Contains(kinds, graph.KindServiceAccount)) {
			p.Kinds = []graph.Kind{graph.KindWorkload}
			p.Filters = append(p.Filters, query.Filter{Field: "subtype", Op: "eq", Value: k8sServiceAccount})
		}
	}
	return p, true
}

// k8sServiceAccount is the subtype connectors/k8s gives ServiceAccounts.
const k8sServiceAccount = "k8s_service_account"

func cleanEntity(s string) string {
	s = strings.TrimSpace(s)
	for {
		t := fillerRE.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	for _, suffix := range []string{" in prod", " in production", " in staging", " in dev", " now", " today", " currently", " right now"} {
		s = strings.TrimSuffix(s, suffix)
	}
	return strings.Trim(strings.TrimSpace(s), "'`")
}

// typeNouns name what kind of resource follows or precedes a name ("the
// checkout repo", "bucket acme-prod-logs"); they are not part of it.
var typeNouns = []string{"repository", "repo", "bucket", "table", "database", "db", "namespace", "project", "secret", "queue", "topic", "dataset", "role"}

func stripTypeNoun(s string) string {
	for _, n := range typeNouns {
		if t, ok := strings.CutSuffix(s, " "+n); ok && t != "" {
			return t
		}
		if t, ok := strings.CutPrefix(s, n+" "); ok && t != "" {
			return t
		}
	}
	return s
}

func isPronoun(s string) bool {
	switch s {
	case "it", "they", "them", "those", "these", "this", "that", "he", "she", "i", "we", "you":
		return true
	}
	return false
}

// followUpWords refer to the previous result ("which of those", "how
// many of them", "only the AWS ones"); sortRE asks to reorder it.
var followUpWords = []string{"those", "these", "them", "they", "of those", "of them", "among those", "among them", "the ones", "ones", "same"}

var followUpStartRE = regexp.MustCompile(`^(and|but|also|then|ok|okay|now|only|just|what about|how about|sort|order|sorted|ordered|break|group|split|narrow|filter|exclude|excluding|limit|show only|top|first|same|any of|which (?:were|are|is|have|has|had|was|of)|how many (?:are|were|have|of)|the \w+ ones)\b`)

var sortRE = regexp.MustCompile(`\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+|those\s+|it\s+)?by\s+(.+)$`)

func isFollowUp(q string) bool {
	return followUpStartRE.MatchString(q) || has(q, followUpWords...)
}

// sortField maps how people name an ordering to a column and direction:
// the most recently used first, the oldest first, ...
func sortField(w string) (query.Sort, bool) {
	w = strings.TrimSpace(w)
	desc := strings.Contains(w, "desc") || strings.Contains(w, "newest") || strings.Contains(w, "most recent") || strings.Contains(w, "latest")
	switch {
	case has(w, "last use", "last used", "last activity", "usage", "use", "activity", "last seen", "recency"):
		return query.Sort{Field: "last_used_at", Desc: desc}, true
	case has(w, "idle", "idleness", "inactivity", "days idle"):
		return query.Sort{Field: "idle_days", Desc: !strings.Contains(w, "asc")}, true
	case has(w, "age", "creation", "created", "creation date", "oldest"):
		return query.Sort{Field: "created_at", Desc: desc}, true
	case has(w, "expiry", "expiration", "expires", "expiry date"):
		return query.Sort{Field: "expires_at", Desc: desc}, true
	case has(w, "rotation", "rotated", "last rotation"):
		return query.Sort{Field: "rotated_at", Desc: desc}, true
	case has(w, "name"):
		return query.Sort{Field: "name", Desc: desc}, true
	case has(w, "privilege", "access level"):
		return query.Sort{Field: "privilege", Desc: !strings.Contains(w, "asc")}, true
	case has(w, "source", "system"):
		return query.Sort{Field: "source", Desc: desc}, true
	case has(w, "owner"):
		return query.Sort{Field: "owner", Desc: desc}, true
	}
	return query.Sort{}, false
}

// followUp narrows prev with the conditions of q; "how many" turns it into
// a count.
func followUp(q string, prev *query.Plan) (*query.Plan, bool) {
	p := *prev
	p.Filters = append([]query.Filter(nil), prev.Filters...)
	p.GroupBy = nil
	p.Limit = 0
	changed := false
	if m := sortRE.FindStringSubmatch(q); m != nil {
		if srt, ok := sortField(m[1]); ok {
			p.Sort = []query.Sort{srt}
			changed = true
		}
		q = strings.TrimSpace(strings.TrimSuffix(q, m[0]))
	}
	if n, ok := topN(q); ok {
		p.Limit = n
		changed = true
	}
	q = groupVerbRE.ReplaceAllString(q, "by")
	q, excl := exclusions(q)
	for _, f := range excl {
		p.Filters = replaceFilter(p.Filters, f)
		changed = true
	}
	if srcs := matchSources(q); len(srcs) > 0 {
		p.Sources = srcs
		changed = true
	}
	// "which of those can log in": attributes narrow the previous result.
	q, attrs, attrSubtype := attributes(q, p.Sources)
	for _, f := range attrs {
		p.Filters = replaceFilter(p.Filters, f)
		changed = true
	}
	if attrSubtype != "" && slices.Equal(p.Kinds, []graph.Kind{graph.KindCredential}) && !hasFilter(p.Filters, "subtype") {
		p.Filters = append(p.Filters, query.Filter{Field: "subtype", Op: "eq", Value: attrSubtype})
	}
	if kinds, subtype, ok := matchKinds(q); ok && kinds != nil {
		p.Kinds = kinds
		if subtype != "" {
			p.Filters = append(p.Filters, query.Filter{Field: "subtype", Op: "eq", Value: subtype})
		}
		changed = true
	}
	conds := conditions(q)
	for _, f := range conds {
		p.Filters = replaceFilter(p.Filters, f)
		changed = true
	}
	// "same but 90 days": a bare duration replaces the previous one.
	if d, ok := duration(q); ok && len(conds) == 0 {
		for i, f := range p.Filters {
			if f.Field == "idle_days" || f.Field == "age_days" || f.Field == "rotated_days" || (f.Field == "expires_in_days" && f.Op == "lte") {
				p.Filters[i].Value = d
				changed = true
			}
		}
	}
	if m := groupRE.FindStringSubmatch(q); m != nil {
		p.GroupBy = []string{groupField(m[1])}
		changed = true
	} else if has(q, countWords...) {
		p.GroupBy = []string{"kind"}
		changed = true
	}
	// "and terraform?" after "what can ci-deployer access": the same
	// question about another identity.
	if !changed && prev.Reach != nil {
		if m := otherEntityRE.FindStringSubmatch(q); m != nil {
			if e := cleanEntity(m[1]); e != "" && !isPronoun(e) && !strings.Contains(e, " ") {
				r := *prev.Reach
				r.From = e
				p.Reach = &r
				changed = true
			}
		}
	}
	if !changed {
		return nil, false
	}
	return &p, true
}

// groupVerbRE is "group them by", "grouped by", "split by": the verb is
// not the kind "group".
var groupVerbRE = regexp.MustCompile(`\b(?:group(?:ed)?|split|break(?:\s+(?:them|those|these|it))?\s+down)(?:\s+(?:them|those|these|it|the results))?\s+by\b`)

// otherEntityRE is a follow-up naming another identity.
var otherEntityRE = regexp.MustCompile(`^(?:and|what about|how about|same for|now|and for|and what about)\s+(?:for\s+)?(.+)$`)

var topRE = regexp.MustCompile(`\b(?:top|first|limit(?: to| it to)?|only show|show me|just show)\s+(\d+)\b`)

// topN reads "top 10", "first 5", "limit to 20".
func topN(q string) (int, bool) {
	m := topRE.FindStringSubmatch(q)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 || n > query.MaxLimit {
		return 0, false
	}
	return n, true
}

// replaceFilter adds f, replacing an earlier filter on the same field and
// direction so "and idle 90 days" after "idle 30 days" tightens rather
// than contradicts.
func replaceFilter(fs []query.Filter, f query.Filter) []query.Filter {
	for i := range fs {
		if fs[i].Field == f.Field && fs[i].Op == f.Op {
			fs[i] = f
			return fs
		}
	}
	return append(fs, f)
}
