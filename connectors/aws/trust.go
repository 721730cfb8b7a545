package aws

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
)

var accountIDRe = regexp.MustCompile(`^\d{12}$`)

// assumeActions are the STS calls a trust policy can allow.
var assumeActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"}

// emitRoles emits instance profiles and the can_assume edges of every
// role's trust policy.
func (b *builder) emitRoles() error {
	d := &b.in.details
	for i := range d.RoleDetailList {
		r := &d.RoleDetailList[i]
		acct, _ := accountOf(r.Arn)
		roleID, _ := awsid.PrincipalNodeID(r.Arn)
		for j, ip := range r.InstanceProfileList {
			ipID, err := awsid.PrincipalNodeID(ip.Arn)
			if err != nil {
				return fmt.Errorf("aws: authorization-details %q: $.RoleDetailList[%d].InstanceProfileList[%d].Arn: %w", b.in.detailsName, i, j, err)
			}
			b.addNode(acct, graph.Node{ID: ipID, Kind: graph.KindWorkload, Subtype: subtypeInstanceProf, Name: ip.InstanceProfileName,
				CreatedAt: ip.CreateDate.Time, Tags: tagMap(ip.Tags),
				Attrs: nonEmpty(map[string]string{graph.AttrARN: ip.Arn, attrPath: ip.Path, "instance_profile_id": ip.InstanceProfileID})})
			b.addEdge(acct, graph.Edge{From: ipID, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
			b.addEdge(acct, graph.Edge{From: ipID, To: roleID, Kind: graph.EdgeCanAssume,
				Attrs: map[string]string{graph.AttrVia: "instance_profile"}})
		}
		if len(r.AssumeRolePolicyDocument) == 0 || string(r.AssumeRolePolicyDocument) == "null" {
			continue
		}
		doc, err := ParseDocument(r.AssumeRolePolicyDocument)
		if err != nil {
			return fmt.Errorf("aws: authorization-details %q: $.RoleDetailList[%d].AssumeRolePolicyDocument (role %q): %w", b.in.detailsName, i, r.RoleName, err)
		}
		b.trustEdges(acct, roleID, doc)
	}
	return nil
}

// trustee is one principal a trust statement names, resolved to a node.
type trustee struct {
	node graph.Node
	// consumed lists condition keys the node itself encodes (an OIDC
	// subject), which therefore do not make the edge conditional.
	consumed map[string]bool
}

func (b *builder) trustEdges(acct, roleID string, doc *Document) {
	denied := map[string]bool{}
	for _, s := range doc.Statement {
		if s.allow() || s.conditional() || !assumes(s) || s.Principal == nil {
			continue
		}
		for _, t := range b.trustees(acct, s) {
			denied[t.node.ID] = true
		}
	}
	var unresolved []string
	for si, s := range doc.Statement {
		if !s.allow() || !assumes(s) {
			continue
		}
		if s.Principal == nil {
			continue
		}
		sid := s.Sid
		if sid == "" {
			sid = fmt.Sprintf("#%d", si)
		}
		for _, t := range b.trustees(acct, s) {
			if t.node.ID == "" {
				unresolved = append(unresolved, t.node.Name)
				continue
			}
			if denied[t.node.ID] {
				continue
			}
			if t.node.Kind != "" && t.node.ID != awsid.AccountNodeID(acct) {
				b.addNode(acct, t.node)
			}
			e := graph.Edge{From: t.node.ID, To: roleID, Kind: graph.EdgeCanAssume,
				Attrs: map[string]string{graph.AttrVia: "trust_policy", attrSid: sid}}
			for op, kv := range s.Condition {
				for k := range kv {
					if !t.consumed[strings.ToLower(k)] {
						e.Conditional = true
					}
					_ = op
				}
			}
			if c := conditionJSON(s.Condition); c != "" {
				e.Attrs[attrCondition] = c
			}
			b.addEdge(acct, e)
		}
	}
	if len(unresolved) > 0 {
		if n := b.nodeRef(acct, roleID); n != nil {
			n.Attrs[attrTrustUnresolved] = strings.Join(sortedUnique(unresolved), ",")
		}
	}
}

func assumes(s Statement) bool {
	for _, a := range assumeActions {
		if s.matchesAction(a) {
			return true
		}
	}
	return false
}

// trustees resolves a trust statement's principals to nodes. Principals
// that cannot be mapped (a deleted principal shown by its unique id) come
// back with an empty node id and their value as name.
func (b *builder) trustees(acct string, s Statement) []trustee {
	p := s.Principal
	if p.Any {
		return []trustee{{node: anyoneNode()}}
	}
	var out []trustee
	for _, typ := range slices.Sorted(maps.Keys(p.Typed)) {
		for _, v := range p.Typed[typ] {
			switch strings.ToLower(typ) {
			case "aws":
				out = append(out, b.awsTrustee(acct, v))
			case "service":
				out = append(out, trustee{node: graph.Node{ID: awsid.ServiceNodeID(v), Kind: graph.KindResource,
					Subtype: subtypeService, Name: strings.ToLower(v)}})
			case "federated":
				out = append(out, federatedTrustees(acct, v, s.Condition)...)
			default:
				out = append(out, trustee{node: graph.Node{Name: typ + ":" + v}})
			}
		}
	}
	return out
}

func anyoneNode() graph.Node {
	return graph.Node{ID: anyoneNodeID, Kind: graph.KindAccount, Subtype: subtypeAnyone, Name: "any AWS principal (\"*\")"}
}

// awsTrustee resolves an "AWS" principal: "*", an account id, an account
// root ARN (any principal of that account that IAM allows), or a user or
// role ARN.
func (b *builder) awsTrustee(acct, v string) trustee {
	if v == "*" {
		return trustee{node: anyoneNode()}
	}
	other := ""
	if accountIDRe.MatchString(v) {
		other = v
	} else if a, err := awsid.ParseARN(v); err == nil && a.Service == "iam" && a.Resource == "root" {
		other = a.Account
	}
	if other != "" {
		return trustee{node: b.accountNode(acct, other)}
	}
	id, err := awsid.PrincipalNodeID(v)
	if err != nil {
		return trustee{node: graph.Node{Name: v}}
	}
	a, _ := awsid.ParseARN(v)
	if a.Account != acct {
		// A principal in another account: the edge points at its node in
		// that account's subgraph; make sure the account is known here.
		b.addExternalAccount(acct, a.Account)
	}
	return trustee{node: graph.Node{ID: id}}
}

// accountNode is the node for a trusted account: this account's own node,
// or an external account node emitted in this subgraph (unless the read
// loads that account too, in which case its own subgraph has the node).
func (b *builder) accountNode(acct, other string) graph.Node {
	if other == acct {
		return graph.Node{ID: awsid.AccountNodeID(acct)}
	}
	b.addExternalAccount(acct, other)
	return graph.Node{ID: awsid.AccountNodeID(other)}
}

func (b *builder) addExternalAccount(acct, other string) {
	if b.loaded[other] {
		return
	}
	b.addNode(acct, graph.Node{ID: awsid.AccountNodeID(other), Kind: graph.KindAccount, Subtype: subtypeExternalAcct,
		Name: other, Attrs: map[string]string{attrExternal: "true", graph.AttrARN: "arn:aws:iam::" + other + ":root"}})
}

// federatedTrustees resolves a Federated principal. An OIDC provider with
// a subject condition becomes one workload identity per allowed subject
// ("github:oidc:repo:org/repo:ref:refs/heads/main" for GitHub Actions);
// without one, the node stands for every subject of the provider.
func federatedTrustees(acct, v string, cond Condition) []trustee {
	host := v
	if a, err := awsid.ParseARN(v); err == nil {
		switch {
		case strings.HasPrefix(a.Resource, "saml-provider/"):
			return []trustee{{node: graph.Node{ID: "aws:" + a.Account + ":" + a.Resource, Kind: graph.KindAccount,
				Subtype: subtypeSAMLProvider, Name: strings.TrimPrefix(a.Resource, "saml-provider/"),
				Attrs: map[string]string{graph.AttrARN: v}}}}
		case strings.HasPrefix(a.Resource, "oidc-provider/"):
			host = strings.TrimPrefix(a.Resource, "oidc-provider/")
		}
	}
	subKey := strings.ToLower(host + ":sub")
	audKey := strings.ToLower(host + ":aud")
	var subs, auds []string
	for op, kv := range cond {
		if strings.Contains(strings.ToLower(op), "not") {
			continue // a negated subject test does not name who may assume
		}
		for k, vals := range kv {
			switch strings.ToLower(k) {
			case subKey:
				subs = append(subs, vals...)
			case audKey:
				auds = append(auds, vals...)
			}
		}
	}
	consumed := map[string]bool{subKey: true, audKey: true}
	prefix := "oidc:" + host + ":"
	if host == githubOIDCHost {
		prefix = "github:oidc:"
	}
	if len(subs) == 0 {
		subs = []string{"*"}
		delete(consumed, subKey)
	}
	sort.Strings(subs)
	var out []trustee
	for _, sub := range sortedUnique(subs) {
		attrs := map[string]string{attrSubject: sub, attrProvider: host, graph.AttrARN: v}
		if len(auds) > 0 {
			attrs[attrAudience] = strings.Join(sortedUnique(append([]string(nil), auds...)), ",")
		}
		name := sub
		if sub == "*" {
			name = "any subject of " + host
		}
		out = append(out, trustee{consumed: consumed, node: graph.Node{ID: prefix + sub, Kind: graph.KindWorkload,
			Subtype: subtypeWorkloadID, Name: name, Attrs: attrs}})
	}
	return out
}
