package planner

import (
	"regexp"
	"slices"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// attrPhrase is a property a connector records as a node attribute,
// named the way analysts say it. The matched words are cut from the
// question before kinds and conditions are read, so "password never
// expires" is neither a password (a credential) nor an expiry, and
// "user-managed" names no user.
type attrPhrase struct {
	re *regexp.Regexp
	// source, when set, is the only source whose nodes carry the
	// attribute: the phrase applies only when the question is about it
	// ("superuser" elsewhere means admin privilege).
	source  string
	filters []query.Filter
	// subtype, when set, says the rows are credentials of that subtype.
	subtype string
}

// attrPhrases are checked in order; each may match once.
var attrPhrases = []attrPhrase{
	// Active Directory's DONT_EXPIRE_PASSWORD flag (connectors/ldap).
	{re: regexp.MustCompile(`\b(?:non-expiring passwords?|passwords? (?:that |which )?(?:never expires?|never expiring|(?:is |are )?set to never expire|(?:does|do) ?(?:not|n't) expire)|dont_expire_password)\b`),
		filters: []query.Filter{{Field: "attr:" + graph.AttrPasswordNever, Op: "eq", Value: "true"}}},
	// Google's key types (connectors/gcp): customers hold and rotate
	// user-managed keys; Google holds and rotates system-managed ones.
	{re: regexp.MustCompile(`\b(?:user|customer)[- ]?(?:managed|created)\b`),
		filters: []query.Filter{{Field: "attr:key_type", Op: "eq", Value: "USER_MANAGED"}}, subtype: "sa_key"},
	{re: regexp.MustCompile(`\b(?:system|google)[- ]?(?:managed|created)\b`),
		filters: []query.Filter{{Field: "attr:key_type", Op: "eq", Value: "SYSTEM_MANAGED"}}, subtype: "sa_key"},
	// Another organisation's app let into the tenant (connectors/entra
	// attr third_party).
	{re: regexp.MustCompile(`\b(?:third[- ]party|3rd[- ]party|external|multi[- ]tenant)\b`),
		filters: []query.Filter{{Field: "attr:third_party", Op: "eq", Value: "true"}}},
	// PostgreSQL's LOGIN flag (connectors/postgres attr can_login).
	// The negation first so "cannot log in" is not read as "can log in".
	// ("Superuser" stays privilege admin: only SUPERUSER grants it.)
	{re: regexp.MustCompile(`\b(?:(?:can ?not|can't|unable to|not able to|not allowed to) (?:log ?in|login|connect)|nologin|without login)\b`), source: "postgres",
		filters: []query.Filter{{Field: "attr:can_login", Op: "eq", Value: "false"}}},
	{re: regexp.MustCompile(`\b(?:(?:can|could|able to|allowed to) (?:log ?in|login|connect)|with login|login[- ]enabled)\b`), source: "postgres",
		filters: []query.Filter{{Field: "attr:can_login", Op: "eq", Value: "true"}}},
}

// attributes cuts the attribute phrases out of q and returns the rest,
// their filters and the credential subtype they imply (or "").
func attributes(q string, sources []string) (string, []query.Filter, string) {
	var fs []query.Filter
	subtype := ""
	for _, ap := range attrPhrases {
		if ap.source != "" && !(len(sources) == 1 && sources[0] == ap.source) {
			continue
		}
		loc := ap.re.FindStringIndex(q)
		if loc == nil {
			continue
		}
		q = strings.TrimSpace(spaceRE.ReplaceAllString(q[:loc[0]]+" "+q[loc[1]:], " "))
		for _, f := range ap.filters {
			if !slices.ContainsFunc(fs, func(g query.Filter) bool { return g.Field == f.Field }) {
				fs = append(fs, f)
			}
		}
		if ap.subtype != "" {
			subtype = ap.subtype
		}
	}
	return q, fs, subtype
}

// holderRE splits "service accounts with keys older than 90 days" at the
// word that hands the question from the holders to their credentials.
var holderRE = regexp.MustCompile(`\b(?:with|having|that have|that has|which have|which has|who have|who has|whose)\b`)

// credentialRows reports whether q asks about the credentials identities
// hold ("GCP service accounts with user-managed keys older than 90
// days"): the conditions are the credentials', so the rows are the
// credentials, whose ids name their holder. It returns the subtype the
// credential phrase names.
func credentialRows(q string) (string, bool) {
	loc := holderRE.FindStringIndex(q)
	if loc == nil {
		return "", false
	}
	before, _, ok := matchKinds(q[:loc[0]])
	if !ok || len(before) == 0 || slices.Contains(before, graph.KindCredential) {
		return "", false
	}
	after, subtype, ok := matchKinds(q[loc[1]:])
	if !ok || len(after) != 1 || after[0] != graph.KindCredential {
		return "", false
	}
	return subtype, true
}
