package vault

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"

	"github.com/steward-oss/steward/graph"
)

// Rule is one path stanza of an ACL policy.
type Rule struct {
	Path         string
	Capabilities []string // sorted, de-duplicated; legacy "policy" values expanded
	Line         int
}

// legacy maps the pre-0.9 `policy = "..."` shorthand to capabilities, as
// Vault itself expands it.
var legacy = map[string][]string{
	"deny":  {"deny"},
	"read":  {"read", "list"},
	"write": {"create", "read", "update", "delete", "list"},
	"sudo":  {"create", "read", "update", "delete", "list", "sudo"},
}

var knownCaps = map[string]bool{"create": true, "read": true, "update": true, "patch": true, "delete": true,
	"list": true, "sudo": true, "deny": true, "subscribe": true, "recover": true}

// ParsePolicy parses Vault ACL policy text (HCL or its JSON form) with the
// HCL v1 parser Vault uses. Errors carry the line.
func ParsePolicy(text string) ([]Rule, error) {
	f, err := hcl.ParseString(text)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	list, ok := f.Node.(*ast.ObjectList)
	if !ok {
		return nil, fmt.Errorf("parse: policy is not a list of stanzas")
	}
	var rules []Rule
	for _, item := range list.Items {
		if len(item.Keys) == 0 {
			continue
		}
		key := item.Keys[0].Token.Value()
		name, _ := key.(string)
		if name != "path" {
			if name == "name" {
				continue // old policies carried their own name
			}
			return nil, fmt.Errorf("line %d: unknown stanza %q", item.Keys[0].Pos().Line, name)
		}
		if len(item.Keys) < 2 {
			return nil, fmt.Errorf("line %d: path stanza without a path", item.Keys[0].Pos().Line)
		}
		p, _ := item.Keys[1].Token.Value().(string)
		var body struct {
			Capabilities []string `hcl:"capabilities"`
			Policy       string   `hcl:"policy"`
		}
		if err := hcl.DecodeObject(&body, item.Val); err != nil {
			return nil, fmt.Errorf("line %d: path %q: %w", item.Keys[1].Pos().Line, p, err)
		}
		caps := map[string]bool{}
		for _, c := range body.Capabilities {
			c = strings.ToLower(strings.TrimSpace(c))
			if !knownCaps[c] {
				return nil, fmt.Errorf("line %d: path %q: unknown capability %q", item.Keys[1].Pos().Line, p, c)
			}
			caps[c] = true
		}
		if body.Policy != "" {
			exp, ok := legacy[strings.ToLower(body.Policy)]
			if !ok {
				return nil, fmt.Errorf("line %d: path %q: unknown policy value %q", item.Keys[1].Pos().Line, p, body.Policy)
			}
			for _, c := range exp {
				caps[c] = true
			}
		}
		r := Rule{Path: p, Line: item.Keys[1].Pos().Line}
		for c := range caps {
			r.Capabilities = append(r.Capabilities, c)
		}
		sort.Strings(r.Capabilities)
		rules = append(rules, r)
	}
	return rules, nil
}

// escalationProbes are paths where write access lets a token give itself
// any policy: rewriting ACL policies. A rule whose pattern covers one and
// that can write is admin.
var escalationProbes = []string{"sys/policies/acl/steward-probe", "sys/policy/steward-probe"}

// Privilege classifies a rule:
//   - admin: sudo or any write capability on "*" (every path), or write on
//     a pattern covering sys/policies/acl/* or sys/policy/* (the holder can
//     rewrite its own policy to anything);
//   - write: create, update, patch, delete or sudo elsewhere;
//   - read: read, list, subscribe only;
//   - none: deny (emitted as a deny grant).
func (r Rule) Privilege() graph.Privilege {
	has := func(cs ...string) bool {
		for _, c := range cs {
			for _, x := range r.Capabilities {
				if x == c {
					return true
				}
			}
		}
		return false
	}
	if has("deny") {
		return graph.PrivNone
	}
	if has("create", "update", "patch", "delete", "sudo") {
		if r.Path == "*" || r.Path == "+/*" {
			return graph.PrivAdmin
		}
		for _, probe := range escalationProbes {
			if Covers(r.Path, probe) {
				return graph.PrivAdmin
			}
		}
		return graph.PrivWrite
	}
	if has("read", "list", "subscribe", "recover") {
		return graph.PrivRead
	}
	return graph.PrivNone
}

// Covers reports whether Vault path pattern p matches path: "+" matches
// one segment, a trailing "*" matches any suffix.
func Covers(p, path string) bool {
	glob := strings.HasSuffix(p, "*")
	p = strings.TrimSuffix(p, "*")
	ps, xs := strings.Split(p, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		last := i == len(ps)-1
		if i >= len(xs) {
			return glob && last && seg == ""
		}
		switch {
		case last && glob:
			return strings.HasPrefix(xs[i], seg) || seg == ""
		case seg == "+":
		case seg != xs[i]:
			return false
		}
	}
	return len(ps) == len(xs)
}
