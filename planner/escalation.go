package planner

import (
	"regexp"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Escalation questions ask for admin_via_escalation (findings/escalation):
// "who can become admin" lists every identity with a privilege-escalation
// path; "how can ci-deployer become admin" narrows to one identity, whose
// path is the row's evidence.

const escalationField = "admin_via_escalation"

var (
	becomeAdmin   = `(?:become|becomes|escalate to|escalate privileges to|escalate its privileges to|make (?:itself|themselves)|turn into|get to) (?:an? )?(?:admin|administrator|admins|administrators)`
	whoEscalateRE = regexp.MustCompile(`^(?:who|which (?:identities|identity|nhis|accounts|service accounts|ones)|what identities|which) (?:can|could|is able to|are able to) ` + becomeAdmin + `$`)
	howEscalateRE = regexp.MustCompile(`^(?:how|can|could|how can|how could|how does|how would|is there a way for) (.+?) (?:can |could |would )?` + becomeAdmin + `$`)
	escalateRE    = regexp.MustCompile(`^(?:identities|accounts|nhis|service accounts) (?:that|which|who) (?:can|could) ` + becomeAdmin + `$`)
)

func parseEscalation(q string) (*query.Plan, bool) {
	esc := query.Filter{Field: escalationField, Op: "eq", Value: true}
	if whoEscalateRE.MatchString(q) || escalateRE.MatchString(q) {
		return &query.Plan{Version: query.Version, Filters: []query.Filter{esc}}, true
	}
	if m := howEscalateRE.FindStringSubmatch(q); m != nil {
		entity := cleanEntity(strings.TrimPrefix(strings.TrimPrefix(m[1], "can "), "could "))
		if entity == "" || isPronoun(entity) || vocabWord(entity) {
			return nil, false
		}
		field := "name"
		if strings.Contains(entity, ":") {
			field = "id"
		}
		return &query.Plan{Version: query.Version, Kinds: graph.IdentityKinds,
			Filters: []query.Filter{{Field: field, Op: "eq", Value: entity}, esc}}, true
	}
	return nil, false
}

// escalationEntity is the identity a "how can X become admin" plan names.
func escalationEntity(p *query.Plan) string {
	if len(p.Filters) != 2 || p.Filters[1].Field != escalationField {
		return ""
	}
	if f := p.Filters[0]; f.Field == "name" || f.Field == "id" {
		s, _ := f.Value.(string)
		return s
	}
	return ""
}
