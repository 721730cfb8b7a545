package planner

import (
	"regexp"
	"slices"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/sources"
	"github.com/steward-oss/steward/query"
)

// kindWords map phrases to kinds, most specific first. subtype narrows
// credentials.
var kindWords = []struct {
	words   []string
	kinds   []graph.Kind
	subtype string
}{
	{[]string{"access key", "aws key", "iam key"}, []graph.Kind{graph.KindCredential}, "access_key"},
	{[]string{"service account key", "sa key", "json key"}, []graph.Kind{graph.KindCredential}, "sa_key"},
	{[]string{"personal access token", "pat"}, []graph.Kind{graph.KindCredential}, "pat"},
	{[]string{"deploy key"}, []graph.Kind{graph.KindCredential}, "deploy_key"},
	{[]string{"client secret", "app secret"}, []graph.Kind{graph.KindCredential}, "client_secret"},
	{[]string{"certificate", "cert"}, []graph.Kind{graph.KindCredential}, "certificate"},
	{[]string{"api token"}, []graph.Kind{graph.KindCredential}, "api_token"},
	{[]string{"key", "credential", "secret", "token", "password", "cred"}, []graph.Kind{graph.KindCredential}, ""},
	{[]string{"kubernetes service account", "k8s service account", "workload", "managed identit", "managed identity", "instance profile", "pod identit"}, []graph.Kind{graph.KindWorkload}, ""},
	{[]string{"service account", "service user", "service principal", "sa", "svc account", "svc"}, []graph.Kind{graph.KindServiceAccount, graph.KindWorkload, graph.KindOAuthApp}, ""},
	{[]string{"bot"}, []graph.Kind{graph.KindBot}, ""},
	{[]string{"ai agent", "agent", "llm agent"}, []graph.Kind{graph.KindAIAgent}, ""},
	{[]string{"oauth app", "app registration", "service app", "app", "application", "integration"}, []graph.Kind{graph.KindOAuthApp}, ""},
	// A PostgreSQL login role is the database's service account.
	{[]string{"login role", "db user", "database user"}, []graph.Kind{graph.KindServiceAccount}, ""},
	{[]string{"role"}, []graph.Kind{graph.KindRole}, ""},
	{[]string{"group"}, []graph.Kind{graph.KindGroup}, ""},
	{[]string{"human user", "person", "people", "employee"}, []graph.Kind{graph.KindUser}, ""},
	// Source "users" that software runs as (IAM users with keys) are
	// service accounts in the model.
	{[]string{"user"}, []graph.Kind{graph.KindUser, graph.KindServiceAccount}, ""},
	{[]string{"machine identit", "machine identity", "non-human identit", "non-human identity", "nhi", "identit", "identity", "account", "principal", "thing"}, nil, ""},
}

var (
	idleWords     = []string{"idle", "dormant", "unused", "stale", "inactive", "not used", "haven't been used", "hasn't been used", "have not been used", "no activity", "not been used", "haven't done anything", "hasn't done anything", "not active", "no use", "no recorded use", "untouched", "abandoned", "not seen", "haven't logged in", "not logged in", "no login", "no logins", "no sign-in", "not signed in", "haven't authenticated", "hasn't authenticated", "not authenticated", "no authentication", "no recent activity", "no recent use", "sitting unused", "gone quiet", "asleep", "not acted on", "not been acted on", "sat idle", "no use for"}
	adminWords    = []string{"admin", "admins", "administrator", "full access", "full-access", "privileged", "superuser", "super user", "superusers", "god mode", "root", "owner role", "all permissions", "admin rights", "admin access", "global admin", "cluster-admin", "domain admin", "admin-level", "admin level", "elevated privileges", "elevated privilege", "elevated access", "highly privileged", "admin privileges", "admin privilege", "owner access"}
	writeWords    = []string{"write access", "write", "can write", "read-write", "read/write", "modify"}
	noOwnerWords  = []string{"no owner", "without an owner", "without owner", "without owners", "unowned", "ownerless", "nobody owns", "no one owns", "missing owner", "missing an owner", "have no owner", "has no owner", "lacking an owner", "not owned", "no accountable", "without an accountable owner", "without a responsible owner", "no responsible owner", "no assigned owner", "without an assigned owner", "unassigned", "owner is missing", "owner missing", "owners missing", "missing owners", "no owners", "nobody owning", "no one owning", "owner is unknown", "unknown owner", "owner unknown", "no accountable owner", "don't have an owner", "doesn't have an owner", "do not have an owner", "does not have an owner", "don't have owners", "lack an owner", "lacks an owner", "lack owners", "lacking owners"}
	departedWords = []string{"owner left", "owners left", "owner has left", "owner who left", "owner departed", "departed owner", "departed", "former employee", "terminated", "owner is gone", "owner quit", "left the company", "orphaned", "orphan", "ex-employee", "ex employee", "owner no longer", "no longer with us", "no longer with the company", "no longer employed", "no longer here", "no longer at the company", "people who left", "people who have left", "people who departed", "person who left", "employees who left", "staff who left", "who left", "who have left", "who has left", "have left", "has left", "former staff", "former owner"}
	leakWords     = []string{"leaked", "leak", "exposed", "compromised", "found in git", "in a repo", "committed"}
	neverWords    = []string{"never used", "never been used", "no use ever", "never logged in"}
	expireWords   = []string{"expiring", "expire", "expires", "expiry", "expiration", "about to expire"}
	expiredWords  = []string{"expired", "already expired", "past expiry", "past their expiry", "past their expiration", "past expiration", "lapsed"}
	noExpiryWords = []string{"never expire", "never expires", "never expiring", "non-expiring", "no expiry", "no expiration", "no expiry date", "no expiration date", "without expiry", "without an expiry", "without expiration", "without an expiration", "does not expire", "doesn't expire", "do not expire", "don't expire"}
	rotateWords   = []string{"not rotated", "unrotated", "rotation", "rotated", "haven't been rotated", "without rotation"}
	ageWords      = []string{"older than", "older then", "older", "old", "created more than", "age", "aged", "more than", "over"}
	countWords    = []string{"count", "how many", "number of", "breakdown", "tally", "totals", "total"}
	disabledWords = []string{"disabled", "deactivated", "inactive status"}
	activeWords   = []string{"still active", "active", "enabled", "still valid", "live"}
	envWords      = []struct{ word, env string }{{"production", "prod"}, {"prod", "prod"}, {"staging", "staging"}, {"stage", "staging"}, {"development", "dev"}, {"dev", "dev"}}
)

// notUsedRE is "not used / not active / not seen ... in|for|since N".
var notUsedRE = regexp.MustCompile(`\b(not|n't|no) (been )?(used|active|seen|touched|called|authenticated|logged in|signed in)\b.*\b(in|for|since)\b`)

var groupRE = regexp.MustCompile(`\b(?:by|per|grouped by|broken down by|for each|each|in each|across)\s+(source type|source|subtype|kind|type|owner status|owner|team|privilege|status|account|environment|env|cloud|system|platform)\b`)

// parse maps a normalised question to a plan.
func parse(q string) (*query.Plan, bool) {
	p := &query.Plan{Version: query.Version}
	if rp, ok := parseReach(q); ok {
		return rp, true
	}
	if ep, ok := parseEscalation(q); ok {
		return ep, true
	}
	if wp, ok := parseWhoCan(q); ok {
		return wp, true
	}
	recognised := false
	if n, ok := topN(q); ok {
		p.Limit = n
	}
	q = groupVerbRE.ReplaceAllString(q, "by")
	q, excl := exclusions(q)
	if len(excl) > 0 {
		recognised = true
		p.Filters = append(p.Filters, excl...)
	}
	q, attrs, attrSubtype := attributes(q, matchSources(q))
	// Kinds.
	kinds, subtype, kindHit := matchKinds(ownerPeople(q))
	if sub, ok := credentialRows(q); ok {
		kinds, subtype = []graph.Kind{graph.KindCredential}, sub
	}
	if attrSubtype != "" {
		// "user-managed keys" are GCP service account keys, whatever
		// holds them.
		kinds, subtype, kindHit = []graph.Kind{graph.KindCredential}, attrSubtype, true
	}
	if kindHit {
		recognised = true
		p.Kinds = kinds
		if subtype != "" {
			p.Filters = append(p.Filters, query.Filter{Field: "subtype", Op: "eq", Value: subtype})
		}
	}
	// Sources.
	if srcs := matchSources(q); len(srcs) > 0 {
		recognised = true
		p.Sources = srcs
		// "kubernetes service accounts" are workloads, not IAM users.
		if len(srcs) == 1 && srcs[0] == "k8s" && len(p.Kinds) > 0 && p.Kinds[0] == graph.KindServiceAccount {
			p.Kinds = []graph.Kind{graph.KindWorkload}
		}
		// AWS IAM roles are identities (service accounts of subtype
		// iam_role or service_linked), not KindRole.
		if len(srcs) == 1 && srcs[0] == "aws" && slices.Equal(p.Kinds, []graph.Kind{graph.KindRole}) {
			p.Kinds = []graph.Kind{graph.KindServiceAccount}
			p.Filters = append(p.Filters, query.Filter{Field: "subtype", Op: "in", Values: []any{"iam_role", "service_linked"}})
		}
		if len(srcs) == 1 && srcs[0] == "postgres" {
			switch {
			case !kindHit:
				p.Kinds = []graph.Kind{graph.KindServiceAccount, graph.KindRole}
			case slices.Equal(p.Kinds, []graph.Kind{graph.KindRole}):
				// Every PostgreSQL role is a role: the model calls login
				// roles service accounts (or users, for people).
				p.Kinds = []graph.Kind{graph.KindServiceAccount, graph.KindUser, graph.KindRole}
			}
		}
	}
	if len(attrs) > 0 {
		recognised = true
		p.Filters = append(p.Filters, attrs...)
	}
	if f := conditions(q); len(f) > 0 {
		recognised = true
		p.Filters = append(p.Filters, f...)
	}
	// An access key overdue for rotation is a live one: CIS 1.14 and
	// the credential report count active keys only, and an inactive key
	// is not used to sign anything.
	if subtype == "access_key" && hasFilter(p.Filters, "rotated_days") && !hasFilter(p.Filters, "status") {
		p.Filters = append(p.Filters, query.Filter{Field: "status", Op: "eq", Value: "active"})
	}
	if count := has(q, countWords...); count {
		recognised = true
		if m := groupRE.FindStringSubmatch(q); m != nil {
			p.GroupBy = []string{groupFieldFor(m[1], p.Kinds)}
		} else {
			p.GroupBy = []string{"kind"}
		}
	} else if m := groupRE.FindStringSubmatch(q); m != nil {
		recognised = true
		p.GroupBy = []string{groupFieldFor(m[1], p.Kinds)}
	}
	if !recognised {
		return nil, false
	}
	// Credentials: sort the oldest first when age matters.
	for _, f := range p.Filters {
		if f.Field == "idle_days" {
			p.Sort = []query.Sort{{Field: "last_used_at"}}
		}
		if f.Field == "expires_in_days" {
			p.Sort = []query.Sort{{Field: "expires_at"}}
		}
	}
	// Superlatives order the rows ("the 5 oldest keys").
	switch {
	case has(q, "oldest"):
		p.Sort = []query.Sort{{Field: "created_at"}}
	case has(q, "newest", "most recently created", "latest"):
		p.Sort = []query.Sort{{Field: "created_at", Desc: true}}
	case has(q, "longest idle", "most idle", "least recently used"):
		p.Sort = []query.Sort{{Field: "idle_days", Desc: true}}
	case has(q, "soonest", "closest to expiry"):
		p.Sort = []query.Sort{{Field: "expires_at"}}
	}
	return p, true
}

// excludeRE finds "but not X", "except X", "excluding X" at the end of a
// question.
var excludeRE = regexp.MustCompile(`\b(?:exclude|excluding|except(?: for)?|other than|but not|apart from|besides|not in|outside(?: of)?|leave out|leaving out|ignore|ignoring|skip)\s+(?:the\s+|any\s+)?(.+)$`)

// exclusions turns an exclusion clause naming sources, kinds or an
// environment into negative filters and returns q without it. A clause
// naming none of those is left in place ("not in use").
func exclusions(q string) (string, []query.Filter) {
	m := excludeRE.FindStringSubmatchIndex(q)
	if m == nil {
		return q, nil
	}
	clause := q[m[2]:m[3]]
	var fs []query.Filter
	if srcs := matchSources(clause); len(srcs) > 0 {
		fs = append(fs, query.Filter{Field: "source_type", Op: "not_in", Values: anySlice(srcs)})
	} else if kinds, _, ok := matchKinds(clause); ok && len(kinds) > 0 {
		ks := make([]string, len(kinds))
		for i, k := range kinds {
			ks[i] = string(k)
		}
		fs = append(fs, query.Filter{Field: "kind", Op: "not_in", Values: anySlice(ks)})
	}
	for _, ew := range envWords {
		if containsWord(clause, ew.word) {
			fs = append(fs, query.Filter{Field: "environment", Op: "ne", Value: ew.env})
			break
		}
	}
	if len(fs) == 0 {
		return q, nil
	}
	return strings.TrimSpace(q[:m[0]]), fs
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// groupFieldFor is groupField for rows of kinds: the "type" of a
// credential is its subtype (access key, client secret...).
func groupFieldFor(w string, kinds []graph.Kind) string {
	if w == "type" && slices.Equal(kinds, []graph.Kind{graph.KindCredential}) {
		return "subtype"
	}
	return groupField(w)
}

func groupField(w string) string {
	switch w {
	case "type":
		return "kind"
	case "cloud", "system", "platform", "source":
		return "source_type"
	case "source type":
		return "source_type"
	case "owner status":
		return "owner_status"
	case "env":
		return "environment"
	}
	return w
}

// matchKinds collects every kind the question names ("roles and users"),
// most specific phrase first; a matched phrase is blanked so "service
// account" is not also read as "account". A subtype applies only when the
// question names one kind of thing.
func matchKinds(q string) ([]graph.Kind, string, bool) {
	var kinds []graph.Kind
	subtype := ""
	hits := 0
	generic := false
	rest := " " + q + " "
	for _, kw := range kindWords {
		for _, w := range kw.words {
			hit := containsWord(rest, w) || (strings.HasSuffix(w, "identit") && strings.Contains(rest, w))
			if !hit {
				continue
			}
			hits++
			for _, suffix := range []string{"es ", "s ", " "} {
				rest = strings.ReplaceAll(rest, " "+w+suffix, " # ")
			}
			rest = strings.ReplaceAll(rest, w, "#")
			if kw.kinds == nil {
				generic = true
			}
			subtype = kw.subtype
			for _, k := range kw.kinds {
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
			break
		}
	}
	if hits == 0 {
		return nil, "", false
	}
	if hits > 1 {
		subtype = ""
	}
	if generic && len(kinds) == 0 {
		return nil, "", true
	}
	return kinds, subtype, true
}

// matchSources returns the sources q names, by the words each connector
// registers (sources.Source.Words).
func matchSources(q string) []string {
	var out []string
	for _, src := range sources.All() {
		for _, w := range src.Words {
			if containsWord(q, w) {
				out = append(out, src.Name)
				break
			}
		}
	}
	return out
}

// conditions extracts the filters a question states.
func conditions(q string) []query.Filter {
	var fs []query.Filter
	days, hasDays := duration(q)
	switch {
	case has(q, neverWords...):
		fs = append(fs, query.Filter{Field: "never_used", Op: "eq", Value: true})
		if hasDays {
			fs = append(fs, query.Filter{Field: "age_days", Op: "gte", Value: days})
		}
	case has(q, idleWords...) || notUsedRE.MatchString(q):
		if !hasDays {
			days = 90
		}
		fs = append(fs, query.Filter{Field: "idle_days", Op: "gte", Value: days})
	case has(q, rotateWords...):
		if !hasDays {
			days = 90
		}
		fs = append(fs, query.Filter{Field: "rotated_days", Op: "gte", Value: days})
	case has(q, noExpiryWords...):
		fs = append(fs, query.Filter{Field: "expires_in_days", Op: "not_exists"})
	case has(q, expiredWords...) && !has(q, "expiring", "expire in", "expires in", "expire within"):
		fs = append(fs, query.Filter{Field: "expires_in_days", Op: "lt", Value: 0.0})
	case has(q, expireWords...):
		if !hasDays {
			days = 30
		}
		fs = append(fs, query.Filter{Field: "expires_in_days", Op: "gte", Value: 0.0},
			query.Filter{Field: "expires_in_days", Op: "lte", Value: days})
	case hasDays && (has(q, ageWords...) || strings.Contains(q, "created")):
		fs = append(fs, query.Filter{Field: "age_days", Op: "gte", Value: days})
	}
	switch {
	case has(q, adminWords...):
		fs = append(fs, query.Filter{Field: "privilege", Op: "eq", Value: "admin"})
	case has(q, readOnlyWords...):
		fs = append(fs, query.Filter{Field: "privilege", Op: "eq", Value: "read"})
	case has(q, writeWords...):
		fs = append(fs, query.Filter{Field: "privilege", Op: "gte", Value: "write"})
	}
	if m := awsAccountRE.FindStringSubmatch(q); m != nil {
		fs = append(fs, query.Filter{Field: "account", Op: "eq", Value: "aws:" + m[1]})
	}
	switch {
	case has(q, departedWords...) || strings.Contains(q, "owner left") || strings.Contains(q, "owners left") || regexp.MustCompile(`owner.* (left|departed|quit|gone)`).MatchString(q):
		fs = append(fs, query.Filter{Field: "owner_status", Op: "eq", Value: "departed"})
	case has(q, noOwnerWords...):
		fs = append(fs, query.Filter{Field: "owner_status", Op: "eq", Value: "absent"})
	}
	if has(q, leakWords...) {
		fs = append(fs, query.Filter{Field: "leaked", Op: "eq", Value: true})
	}
	switch {
	case has(q, notDisabledWords...):
		fs = append(fs, query.Filter{Field: "status", Op: "eq", Value: "active"})
	case has(q, disabledWords...):
		fs = append(fs, query.Filter{Field: "status", Op: "eq", Value: "disabled"})
	// "Active Directory" names a source, not a status.
	case has(strings.ReplaceAll(q, "active directory", "ad"), activeWords...) && !has(q, idleWords...) && !strings.Contains(q, "inactive"):
		fs = append(fs, query.Filter{Field: "status", Op: "eq", Value: "active"})
	}
	for _, ew := range envWords {
		if containsWord(q, ew.word) {
			fs = append(fs, query.Filter{Field: "environment", Op: "eq", Value: ew.env})
			break
		}
	}
	if m := ownerRE.FindStringSubmatch(q); m != nil {
		fs = append(fs, query.Filter{Field: "owner", Op: "eq", Value: m[1]})
	}
	if m := teamRE.FindStringSubmatch(q); m != nil && !notTeam[m[1]] {
		fs = append(fs, query.Filter{Field: "team", Op: "eq", Value: m[1]})
	}
	return fs
}

// readOnlyWords ask for identities that can read and nothing more.
var readOnlyWords = []string{"read-only", "read only", "readonly", "only read", "view-only", "view only"}

// awsAccountRE is a 12-digit AWS account id ("in account 111111111111").
var awsAccountRE = regexp.MustCompile(`\b(?:aws )?account (\d{12})\b`)

// ownerRE is "owned by alice@example.com"; teamRE is "the payments team".
var (
	ownerRE = regexp.MustCompile(`\b(?:owned by|belonging to|owner is|whose owner is)\s+([a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+)`)
	teamRE  = regexp.MustCompile(`\b([a-z0-9-]+)\s+team(?:'s)?\b`)
	// notTeam are words before "team" that name no team ("per team").
	notTeam = map[string]bool{"per": true, "by": true, "each": true, "every": true, "a": true, "the": true, "which": true, "what": true,
		"their": true, "my": true, "our": true, "your": true, "any": true, "same": true, "one": true, "no": true, "that": true, "this": true}
)

// ownerPeopleRE are the people of an owner condition ("owned by people
// who left", "former employees"): they are whose the rows are, not rows.
var ownerPeopleRE = regexp.MustCompile(`\b(?:people|person|employees?|staff)\b`)

// ownerPeople blanks the people words of q when q states an owner
// condition, so "identities of people who left" is not read as users.
func ownerPeople(q string) string {
	if !has(q, departedWords...) && !has(q, noOwnerWords...) && !ownerRE.MatchString(q) && !teamRE.MatchString(q) &&
		!has(q, "owned by", "belonging to", "belong to", "belongs to", "whose") {
		return q
	}
	return spaceRE.ReplaceAllString(ownerPeopleRE.ReplaceAllString(q, " "), " ")
}

// hasFilter reports whether fs already says something about field.
func hasFilter(fs []query.Filter, field string) bool {
	return slices.ContainsFunc(fs, func(f query.Filter) bool { return f.Field == field })
}
