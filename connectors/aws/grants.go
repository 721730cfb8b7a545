package aws

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/glob"
)

// emitPolicies adds nodes for managed policies the export lists but
// nothing attaches. Customer-managed ones belong to their own account;
// an unattached AWS-managed one is only placed when the read covers a
// single account, since otherwise it belongs to none in particular.
func (b *builder) emitPolicies() {
	d := &b.in.details
	var only string
	if len(b.loaded) == 1 {
		for a := range b.loaded {
			only = a
		}
	}
	for i := range d.Policies {
		pol := b.policies[d.Policies[i].Arn]
		acct := pol.account
		if acct == "aws" {
			if len(b.polAccts[pol.arn]) > 0 || only == "" {
				continue
			}
			acct = only
		}
		if pid, err := awsid.PolicyNodeID(acct, pol.arn); err == nil {
			b.ensurePolicyNode(acct, pol, pid)
		}
	}
}

// grantKey identifies one (action, resource) grant for result sharing.
type grantKey struct {
	sig, action, resource string
	notAction, admin      bool
}

// emitGrants emits grants edges: from each managed policy node (in every
// account that holds it) and from each principal for its inline policies.
// An Allow edge's privilege is the strongest the grant gives any holder
// after that holder's Denies and boundary; a Deny edge carries the
// privilege of what it denies.
func (b *builder) emitGrants(principals []*principal) {
	cache := map[grantKey]graph.Privilege{}
	priv := func(p *principal, a, r string, notAction bool) graph.Privilege {
		k := grantKey{p.denySig, a, r, notAction, p.admin}
		if v, ok := cache[k]; ok {
			return v
		}
		v := p.set.grantPrivilege(a, r, notAction, p.admin)
		cache[k] = v
		return v
	}
	for _, arn := range slices.Sorted(maps.Keys(b.polAccts)) {
		pol := b.policies[arn]
		if !pol.resolved {
			continue
		}
		for _, acct := range b.polAccts[arn] {
			pid, _ := awsid.PolicyNodeID(acct, arn)
			var holders []*principal
			seen := map[string]bool{}
			for _, h := range pol.holders {
				if h.account == acct && !seen[h.denySig+strconv.FormatBool(h.admin)] {
					seen[h.denySig+strconv.FormatBool(h.admin)] = true
					holders = append(holders, h)
				}
			}
			if len(holders) == 0 {
				// Not held by anyone (unattached, or only a boundary): the
				// policy on its own says what it would grant.
				alone := &principal{id: pid, set: PolicySet{Identity: pol.statements()}}
				alone.admin, _ = alone.set.Admin()
				holders = []*principal{alone}
			}
			b.statementEdges(acct, pid, "policy:"+pol.name, pol.doc, holders, priv)
		}
	}
	for _, p := range principals {
		for _, nd := range p.inline {
			b.statementEdges(p.account, p.id, "inline:"+nd.name, nd.doc, []*principal{p}, priv)
		}
	}
}

func (b *builder) statementEdges(acct, from, via string, doc *Document, holders []*principal,
	priv func(*principal, string, string, bool) graph.Privilege) {
	to := awsid.AccountNodeID(acct)
	for si, s := range doc.Statement {
		actions := s.Action
		notAction := s.NotAction != nil
		if notAction {
			actions = []string{notActionPrefix + strings.Join(s.NotAction, ",")}
		}
		resources := s.Resource
		if s.NotResource != nil {
			resources = []string{notResourcePrefix + strings.Join(s.NotResource, ",")}
		} else if resources == nil {
			resources = []string{"*"}
		}
		sid := s.Sid
		if sid == "" {
			sid = "#" + strconv.Itoa(si)
		}
		for _, a := range actions {
			for _, r := range resources {
				e := graph.Edge{From: from, To: to, Kind: graph.EdgeGrants, Action: a, Resource: r,
					Conditional: s.conditional(),
					Attrs:       map[string]string{graph.AttrVia: via, attrSid: sid}}
				if c := conditionJSON(s.Condition); c != "" {
					e.Attrs[attrCondition] = c
				}
				evalA, evalR := a, r
				if notAction {
					evalA = "*"
				}
				if s.NotResource != nil {
					evalR = "*"
				}
				if s.allow() {
					e.Attrs[graph.AttrReadsSecrets] = strconv.FormatBool(readsSecrets(s, a, notAction, r, s.NotResource != nil))
					e.Effect = graph.EffectAllow
					e.Privilege = graph.PrivNone
					// The escalation check sees this edge's own action (or
					// the whole NotAction statement) on its resource.
					one := s
					if !notAction {
						one.Action = strList{a}
					}
					for _, h := range holders {
						p := priv(h, evalA, evalR, notAction)
						if p == graph.PrivWrite && s.NotResource == nil && h.set.escalates(one, r) {
							p = graph.PrivAdmin
						}
						if p.Rank() > e.Privilege.Rank() {
							e.Privilege = p
						}
						if e.Privilege == graph.PrivAdmin {
							break
						}
					}
				} else {
					e.Effect = graph.EffectDeny
					e.Privilege = deniedPrivilege(evalA, evalR, notAction, s.NotResource != nil)
				}
				b.addEdge(acct, e)
			}
		}
	}
}

// deniedPrivilege classifies what a Deny statement takes away.
func deniedPrivilege(a, r string, notAction, notResource bool) graph.Privilege {
	switch {
	case normAction(a) == "*" && r == "*" && !notAction && !notResource:
		return graph.PrivAdmin
	case notAction || !actionIsRead(a):
		return graph.PrivWrite
	}
	return graph.PrivRead
}

// secretReads are the calls that return a stored secret's value.
var secretReads = []string{"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"}

// readsSecrets reports whether one grant (action pattern a of statement
// s, or the whole NotAction statement, on resource pattern r) allows
// reading a secret's value from Secrets Manager or SSM Parameter Store.
func readsSecrets(s Statement, a string, notAction bool, r string, notResource bool) bool {
	if !notResource && r != "*" && !strings.HasPrefix(r, "arn:aws:secretsmanager:") && !strings.HasPrefix(r, "arn:aws:ssm:") &&
		!strings.HasPrefix(r, "arn:aws:*") && !strings.HasPrefix(r, "arn:*") {
		return false
	}
	for _, act := range secretReads {
		if notAction {
			if s.matchesAction(act) {
				return true
			}
		} else if glob.Match(normAction(a), act, true) {
			return true
		}
	}
	return false
}
