// Package sod evaluates separation-of-duties rules (toxic combinations):
// sets of capabilities one identity must not hold together, such as
// deploying to production and approving its own changes. Rules are YAML
// (a default set is embedded); each capability is a list of grant
// matchers, and an identity holds it when any grant it reaches through its
// groups, assumable roles and identities, attached policies and
// credentials matches, in any source. Each violation carries, per
// capability, the path to the grant that gives it.
package sod

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/glob"
	"github.com/steward-oss/steward/query"
)

//go:embed default.yaml
var defaultRules []byte

// Rule is one toxic combination.
type Rule struct {
	ID           string       `yaml:"id" json:"id"`
	Title        string       `yaml:"title" json:"title"`
	Severity     string       `yaml:"severity" json:"severity"`
	Description  string       `yaml:"description" json:"description,omitempty"`
	Capabilities []Capability `yaml:"capabilities" json:"capabilities"`
}

// Capability is one duty: held when any matcher matches a reachable grant.
type Capability struct {
	Name   string    `yaml:"name" json:"name"`
	Grants []Matcher `yaml:"grants" json:"grants"`
}

// Matcher matches grants edges. Action and Resource are globs (* and ?,
// case-insensitive) matched against each comma-separated element of the
// grant's action and resource (Kubernetes verbs and resources are
// comma-joined); a grant whose own action is a wildcard covering Action
// matches too ("iam:*" holds "iam:CreateUser"). Source is a source type
// ("aws") or full source name; empty matches any.
type Matcher struct {
	Source   string `yaml:"source" json:"source,omitempty"`
	Action   string `yaml:"action" json:"action"`
	Resource string `yaml:"resource" json:"resource,omitempty"`
}

// Rules is a loaded rule set.
type Rules struct {
	Rules []Rule `yaml:"rules"`
}

// Default returns the embedded default rule set.
func Default() *Rules {
	r, err := Parse("default.yaml", defaultRules)
	if err != nil {
		panic("sod: embedded default rules: " + err.Error()) // a build defect, caught by the tests
	}
	return r
}

// Load reads a rule file.
func Load(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sod: %w", err)
	}
	return Parse(path, b)
}

var severities = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}

// Parse decodes rules strictly: unknown keys are errors naming the line.
func Parse(name string, b []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r Rules
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("sod: %s: %w", name, err)
	}
	seen := map[string]bool{}
	for i, rule := range r.Rules {
		where := fmt.Sprintf("sod: %s: rules[%d]", name, i)
		switch {
		case rule.ID == "":
			return nil, fmt.Errorf("%s.id: empty", where)
		case seen[rule.ID]:
			return nil, fmt.Errorf("%s.id: duplicate %q", where, rule.ID)
		case rule.Title == "":
			return nil, fmt.Errorf("%s.title: empty", where)
		case !severities[rule.Severity]:
			return nil, fmt.Errorf("%s.severity: %q is not low, medium, high or critical", where, rule.Severity)
		case len(rule.Capabilities) < 2:
			return nil, fmt.Errorf("%s.capabilities: a combination needs at least two, got %d", where, len(rule.Capabilities))
		}
		seen[rule.ID] = true
		for j, c := range rule.Capabilities {
			if c.Name == "" {
				return nil, fmt.Errorf("%s.capabilities[%d].name: empty", where, j)
			}
			if len(c.Grants) == 0 {
				return nil, fmt.Errorf("%s.capabilities[%d].grants: empty", where, j)
			}
			for k, m := range c.Grants {
				if m.Action == "" {
					return nil, fmt.Errorf("%s.capabilities[%d].grants[%d].action: empty", where, j, k)
				}
			}
		}
	}
	return &r, nil
}

// Held is one capability an identity holds, with the evidence path.
type Held struct {
	Capability string
	Evidence   []int32
}

// Violation is one identity holding every capability of one rule.
type Violation struct {
	Rule     *Rule
	Identity int32
	Held     []Held
}

// Evaluate returns every violation in ix, by rule then identity id.
// Wildcard admin grants are left out: an administrator holds every
// capability by definition, and is reported as one by the admin checks; a
// combination is a finding about the duties an identity was given.
func (rs *Rules) Evaluate(ix *graph.Index) []Violation {
	var out []Violation
	for i := range int32(ix.NumNodes()) {
		n := ix.Node(i)
		if !n.Kind.IsIdentity() || n.Status == graph.StatusDisabled || query.IsFinding(&n) {
			continue
		}
		grants := reachable(ix, int32(i))
		if len(grants) == 0 {
			continue
		}
		for r := range rs.Rules {
			rule := &rs.Rules[r]
			var held []Held
			for _, c := range rule.Capabilities {
				ev, ok := holds(ix, grants, &c)
				if !ok {
					break
				}
				held = append(held, Held{Capability: c.Name, Evidence: ev})
			}
			if len(held) == len(rule.Capabilities) {
				out = append(out, Violation{Rule: rule, Identity: int32(i), Held: held})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Rule.ID != out[b].Rule.ID {
			return out[a].Rule.ID < out[b].Rule.ID
		}
		return ix.NodeID(out[a].Identity) < ix.NodeID(out[b].Identity)
	})
	return out
}

// grant is a reachable grants edge and the path to it.
type grant struct {
	edge int32
	path []int32
}

// maxHops bounds the walk; real chains are a few hops.
const maxHops = 8

// reachable walks member_of, can_assume and has_credential from i and
// collects the allow grants of every node reached and of the policies
// attached to them.
func reachable(ix *graph.Index, i int32) []grant {
	type step struct {
		n    int32
		path []int32
	}
	seen := map[int32]bool{i: true}
	q := []step{{i, nil}}
	var out []grant
	collect := func(n int32, path []int32) {
		for _, e := range ix.Out(n) {
			if ed := ix.Edge(e); ed.Kind == graph.EdgeGrants && ed.Effect != graph.EffectDeny {
				out = append(out, grant{e, path})
			}
		}
	}
	for len(q) > 0 {
		s := q[0]
		q = q[1:]
		collect(s.n, s.path)
		for _, e := range ix.In(s.n) {
			ed := ix.Edge(e)
			if ed.Kind != graph.EdgeAttachedTo {
				continue
			}
			if p, ok := ix.Lookup(ed.From); ok && !seen[p] {
				seen[p] = true
				collect(p, append(append([]int32(nil), s.path...), e))
			}
		}
		if len(s.path) >= maxHops {
			continue
		}
		for _, e := range ix.Out(s.n) {
			ed := ix.Edge(e)
			if ed.Kind != graph.EdgeMemberOf && ed.Kind != graph.EdgeCanAssume && ed.Kind != graph.EdgeHasCredential {
				continue
			}
			t, ok := ix.Lookup(ed.To)
			if !ok || seen[t] {
				continue
			}
			seen[t] = true
			q = append(q, step{t, append(append([]int32(nil), s.path...), e)})
		}
	}
	return out
}

func holds(ix *graph.Index, gs []grant, c *Capability) ([]int32, bool) {
	for _, g := range gs {
		ed := ix.Edge(g.edge)
		for _, m := range c.Grants {
			if m.matches(ed, graph.GrantPrivilege(ed) == graph.PrivAdmin) {
				return append(append([]int32(nil), g.path...), g.edge), true
			}
		}
	}
	return nil, false
}

// matches: an admin grant counts only when the matcher names its action
// (a connector rates iam:AttachUserPolicy on every user admin); a wildcard
// admin grant ("*", cluster-admin) covering the capability does not.
func (m *Matcher) matches(ed *graph.Edge, admin bool) bool {
	if m.Source != "" {
		src := ""
		if k := strings.Index(ed.From, ":"); k >= 0 {
			src = ed.From[:k]
		}
		if !strings.EqualFold(m.Source, src) {
			return false
		}
	}
	if !anyElem(ed.Action, m.Action, !admin) {
		return false
	}
	return m.Resource == "" || anyElem(ed.Resource, m.Resource, !admin)
}

// anyElem: pattern matches one comma-separated element of s, or an
// element of s is itself a pattern covering the (literal) pattern.
func anyElem(s, pattern string, covering bool) bool {
	for _, x := range strings.Split(s, ",") {
		x = strings.TrimSpace(x)
		if glob.Match(pattern, x, true) || (covering && strings.ContainsAny(x, "*?") && glob.Match(x, pattern, true)) {
			return true
		}
	}
	return false
}
