package k8s

import (
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/steward-oss/steward/graph"
)

// effectiveRules resolves aggregationRule the way the clusterrole
// aggregation controller does: an aggregated ClusterRole holds the rules of
// every ClusterRole whose labels match one of its selectors. Exports of the
// bootstrap policy leave aggregated roles' rules empty, so the chain
// (admin <- edit <- view) is followed transitively here; live reads already
// carry the controller's result and the union changes nothing.
func effectiveRules(roles []rbacv1.ClusterRole) map[string][]rbacv1.PolicyRule {
	byName := make(map[string]*rbacv1.ClusterRole, len(roles))
	for i := range roles {
		byName[roles[i].Name] = &roles[i]
	}
	out := make(map[string][]rbacv1.PolicyRule, len(roles))
	var resolve func(name string, visiting map[string]bool) []rbacv1.PolicyRule
	resolve = func(name string, visiting map[string]bool) []rbacv1.PolicyRule {
		if r, ok := out[name]; ok {
			return r
		}
		cr := byName[name]
		rules := append([]rbacv1.PolicyRule(nil), cr.Rules...)
		if cr.AggregationRule != nil && !visiting[name] {
			visiting[name] = true
			var sources []string
			for _, other := range roles {
				if other.Name == name {
					continue
				}
				for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
					s, err := metav1.LabelSelectorAsSelector(&sel)
					if err != nil || s.Empty() {
						continue
					}
					if s.Matches(labels.Set(other.Labels)) {
						sources = append(sources, other.Name)
						break
					}
				}
			}
			sort.Strings(sources)
			for _, src := range sources {
				rules = append(rules, resolve(src, visiting)...)
			}
			delete(visiting, name)
		}
		if !visiting[name] {
			out[name] = rules
		}
		return rules
	}
	for _, r := range roles {
		resolve(r.Name, map[string]bool{})
	}
	return out
}

// grant is one (verbs, resource) pair of a rule.
type grant struct {
	action      string // verbs, comma-joined
	resource    string // "secrets", "apps/deployments", "*", "configmaps/cluster-info", "nonResourceURL:/healthz"
	resourceNm  string // the resourceName, if the rule names one
	nonResource bool
	privilege   graph.Privilege
}

// ruleGrants expands a rule into one grant per API group × resource (×
// resourceName). clusterWide says whether it applies to the whole cluster
// (ClusterRole bound by a ClusterRoleBinding) or to one namespace.
func ruleGrants(rule rbacv1.PolicyRule, clusterWide bool) []grant {
	verbs := append([]string(nil), rule.Verbs...)
	sort.Strings(verbs)
	action := strings.Join(verbs, ",")
	var out []grant
	for _, u := range rule.NonResourceURLs {
		p := graph.PrivWrite
		if readOnly(verbs) {
			p = graph.PrivRead
		}
		out = append(out, grant{action: action, resource: "nonResourceURL:" + u, nonResource: true, privilege: p})
	}
	for _, g := range rule.APIGroups {
		for _, res := range rule.Resources {
			base := res
			switch {
			case g == "*" && res == "*":
				base = "*"
			case g != "":
				base = g + "/" + res
			}
			p := rulePrivilege(verbs, g, res, clusterWide)
			if len(rule.ResourceNames) == 0 {
				out = append(out, grant{action: action, resource: base, privilege: p})
				continue
			}
			for _, n := range rule.ResourceNames {
				out = append(out, grant{action: action, resource: base + "/" + n, resourceNm: n, privilege: p})
			}
		}
	}
	return out
}

// rulePrivilege: every verb on every resource of every group is admin only
// cluster-wide; inside one namespace it is write (the namespace is not the
// cluster account). Verbs that only read, and create on the review APIs,
// are read; anything else is write.
func rulePrivilege(verbs []string, group, resource string, clusterWide bool) graph.Privilege {
	if contains(verbs, "*") && group == "*" && resource == "*" {
		if clusterWide {
			return graph.PrivAdmin
		}
		return graph.PrivWrite
	}
	if readOnly(verbs) || (reviewAPIs[group+"/"+resource] && onlyCreate(verbs)) {
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// reviewAPIs are the resources whose create only asks the API server a
// question (may I, may they, who is this token) and stores nothing, so
// creating them is not write access. system:basic-user, bound to every
// authenticated user, grants the self-subject ones.
var reviewAPIs = map[string]bool{
	"authorization.k8s.io/selfsubjectaccessreviews":  true,
	"authorization.k8s.io/selfsubjectrulesreviews":   true,
	"authorization.k8s.io/subjectaccessreviews":      true,
	"authorization.k8s.io/localsubjectaccessreviews": true,
	"authentication.k8s.io/tokenreviews":             true,
	"authentication.k8s.io/selfsubjectreviews":       true,
}

func onlyCreate(verbs []string) bool {
	for _, v := range verbs {
		if v != "create" {
			return false
		}
	}
	return len(verbs) > 0
}

func readOnly(verbs []string) bool {
	if len(verbs) == 0 {
		return false
	}
	for _, v := range verbs {
		switch v {
		case "get", "list", "watch":
		default:
			return false
		}
	}
	return true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
