package aws

import (
	"fmt"
	"strings"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
)

// principals emits user, group and role nodes with their memberships and
// policy attachments, builds each one's policy set, and records which
// principals hold each managed policy (the holders decide the privilege on
// that policy's grants edges).
func (b *builder) principals() ([]*principal, error) {
	d := &b.in.details
	name := b.in.detailsName
	var out []*principal
	groupP := map[string]map[string]*principal{} // account -> group name -> principal
	members := map[*principal]int{}

	for i := range d.GroupDetailList {
		g := &d.GroupDetailList[i]
		acct, _ := accountOf(g.Arn)
		id, err := awsid.PrincipalNodeID(g.Arn)
		if err != nil {
			return nil, fmt.Errorf("aws: authorization-details %q: $.GroupDetailList[%d].Arn: %w", name, i, err)
		}
		p := &principal{id: id, account: acct, kind: graph.KindGroup, group: g}
		if err := b.addInline(p, fmt.Sprintf("$.GroupDetailList[%d].GroupPolicyList", i), g.GroupPolicyList); err != nil {
			return nil, err
		}
		b.addManaged(p, g.AttachedManagedPolicies, false)
		if groupP[acct] == nil {
			groupP[acct] = map[string]*principal{}
		}
		groupP[acct][g.GroupName] = p
		b.addNode(acct, graph.Node{ID: id, Kind: graph.KindGroup, Name: g.GroupName, CreatedAt: g.CreateDate.Time,
			Attrs: nonEmpty(map[string]string{graph.AttrARN: g.Arn, attrPath: g.Path, "group_id": g.GroupID})})
		b.addEdge(acct, graph.Edge{From: id, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		out = append(out, p)
	}

	report := b.reportByARN()
	for i := range d.UserDetailList {
		u := &d.UserDetailList[i]
		acct, _ := accountOf(u.Arn)
		id, err := awsid.PrincipalNodeID(u.Arn)
		if err != nil {
			return nil, fmt.Errorf("aws: authorization-details %q: $.UserDetailList[%d].Arn: %w", name, i, err)
		}
		p := &principal{id: id, account: acct, kind: graph.KindServiceAccount}
		if err := b.addInline(p, fmt.Sprintf("$.UserDetailList[%d].UserPolicyList", i), u.UserPolicyList); err != nil {
			return nil, err
		}
		b.addManaged(p, u.AttachedManagedPolicies, true)
		for _, gname := range u.GroupList {
			gid := "aws:" + acct + ":group/" + gname
			if gp, ok := groupP[acct][gname]; ok {
				gid = gp.id
				p.set.Identity = append(p.set.Identity, gp.set.Identity...)
				p.denySig += gp.denySig
				members[gp]++
				// Members, not the group, hold a group's managed policies:
				// each member's own Denies and boundary apply to them.
				for _, ap := range gp.group.AttachedManagedPolicies {
					pol := b.policy(ap.PolicyArn, ap.PolicyName)
					pol.holders = append(pol.holders, p)
				}
			}
			b.addEdge(acct, graph.Edge{From: id, To: gid, Kind: graph.EdgeMemberOf})
		}
		b.setBoundary(p, u.PermissionsBoundary)
		p.admin, p.adminC = p.set.Admin()
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: u.UserName, CreatedAt: u.CreateDate.Time,
			Tags: tagMap(u.Tags), Attrs: nonEmpty(map[string]string{graph.AttrARN: u.Arn, attrPath: u.Path, attrUserID: u.UserID})}
		if u.PermissionsBoundary != nil {
			n.Attrs[attrBoundary] = u.PermissionsBoundary.PermissionsBoundaryArn
		}
		if row, ok := report[u.Arn]; ok {
			applyReportToUser(&n, row)
		} else {
			n.Attrs[attrConsole] = "unknown"
		}
		p.kind = n.Kind
		setEffective(&n, p)
		b.addNode(acct, n)
		b.addEdge(acct, graph.Edge{From: id, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		out = append(out, p)
	}

	// A group's managed policies are held by its members; a group without
	// members is evaluated on its own so its grants still get a privilege.
	for _, p := range out {
		if p.kind != graph.KindGroup {
			continue
		}
		p.admin, p.adminC = p.set.Admin()
		if members[p] == 0 {
			for _, ap := range p.group.AttachedManagedPolicies {
				pol := b.policy(ap.PolicyArn, ap.PolicyName)
				pol.holders = append(pol.holders, p)
			}
		}
		setEffective(b.nodeRef(p.account, p.id), p)
	}

	for i := range d.RoleDetailList {
		r := &d.RoleDetailList[i]
		acct, _ := accountOf(r.Arn)
		id, err := awsid.PrincipalNodeID(r.Arn)
		if err != nil {
			return nil, fmt.Errorf("aws: authorization-details %q: $.RoleDetailList[%d].Arn: %w", name, i, err)
		}
		// A role is what workloads, services, people through SSO and
		// other accounts act as: an identity (a service account of
		// subtype iam_role), not a bag of permissions like a group.
		p := &principal{id: id, account: acct, kind: graph.KindServiceAccount}
		if err := b.addInline(p, fmt.Sprintf("$.RoleDetailList[%d].RolePolicyList", i), r.RolePolicyList); err != nil {
			return nil, err
		}
		b.addManaged(p, r.AttachedManagedPolicies, true)
		b.setBoundary(p, r.PermissionsBoundary)
		p.admin, p.adminC = p.set.Admin()
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Subtype: subtypeIAMRole, Name: r.RoleName, CreatedAt: r.CreateDate.Time, Tags: tagMap(r.Tags),
			Attrs: nonEmpty(map[string]string{graph.AttrARN: r.Arn, attrPath: r.Path, "role_id": r.RoleID})}
		if strings.HasPrefix(r.Path, "/aws-service-role/") {
			n.Subtype = subtypeServiceLinked
		}
		if r.PermissionsBoundary != nil {
			n.Attrs[attrBoundary] = r.PermissionsBoundary.PermissionsBoundaryArn
		}
		if r.RoleLastUsed != nil && !r.RoleLastUsed.LastUsedDate.IsZero() {
			n.LastUsedAt = r.RoleLastUsed.LastUsedDate.Time
			if r.RoleLastUsed.Region != "" {
				n.Attrs[attrLastUsedRegion] = r.RoleLastUsed.Region
			}
		}
		if t, ok := b.in.roleLastUsed[r.Arn]; ok && t.After(n.LastUsedAt) {
			n.LastUsedAt = t
		}
		setEffective(&n, p)
		b.addNode(acct, n)
		b.addEdge(acct, graph.Edge{From: id, To: awsid.AccountNodeID(acct), Kind: graph.EdgeInAccount})
		out = append(out, p)
	}
	return out, nil
}

// addInline parses a principal's inline policies into its set. Their
// grants edges start at the principal itself (an inline policy has no
// identity of its own), so the documents are kept for emitGrants.
func (b *builder) addInline(p *principal, path string, list []inlinePolicy) error {
	for j, ip := range list {
		doc, err := ParseDocument(ip.PolicyDocument)
		if err != nil {
			return fmt.Errorf("aws: authorization-details %q: %s[%d].PolicyDocument (policy %q): %w", b.in.detailsName, path, j, ip.PolicyName, err)
		}
		p.inline = append(p.inline, namedDoc{name: ip.PolicyName, doc: doc})
		p.set.Identity = append(p.set.Identity, doc.Statement...)
		p.denySig += denySigOf(doc, p.id+"/"+ip.PolicyName)
	}
	return nil
}

// addManaged adds attached managed policies to a principal's set and emits
// the attached_to edges. holds says whether p is itself a holder (groups
// hand their policies to their members instead).
func (b *builder) addManaged(p *principal, list []attachedPolicy, holds bool) {
	for _, ap := range list {
		pol := b.policy(ap.PolicyArn, ap.PolicyName)
		p.set.Identity = append(p.set.Identity, pol.statements()...)
		p.denySig += denySigOf(pol.doc, ap.PolicyArn)
		b.attach(p.account, pol, p.id)
		if holds {
			pol.holders = append(pol.holders, p)
		}
	}
}

// nodeRef returns a pointer to an emitted node so late facts can be added.
func (b *builder) nodeRef(account, id string) *graph.Node {
	i, ok := b.nodeIdx[account][id]
	if !ok {
		return nil
	}
	return &b.graphs[account].Nodes[i]
}

func setEffective(n *graph.Node, p *principal) {
	if n == nil {
		return
	}
	if n.Attrs == nil {
		n.Attrs = map[string]string{}
	}
	priv, cond := p.set.Privilege()
	n.Attrs[attrEffective] = string(priv)
	if p.boundaryUnresolved {
		n.Attrs[attrBoundaryUnresolved] = "true"
	}
	if cond {
		n.Attrs[attrEffectiveCond] = "true"
	}
}

// setBoundary applies a permissions boundary. A boundary whose document is
// not in the export cannot be evaluated; it is then left out of the
// evaluation (privilege may be overstated, never hidden) and the principal
// is marked with attrBoundaryUnresolved.
func (b *builder) setBoundary(p *principal, ref *boundaryRef) {
	if ref == nil || ref.PermissionsBoundaryArn == "" {
		return
	}
	pol := b.policy(ref.PermissionsBoundaryArn, "")
	if pid, err := awsid.PolicyNodeID(p.account, pol.arn); err == nil {
		b.ensurePolicyNode(p.account, pol, pid)
	}
	if !pol.resolved {
		p.boundaryUnresolved = true
		return
	}
	p.set.HasBoundary = true
	p.set.Boundary = pol.statements()
	p.denySig += "|boundary=" + ref.PermissionsBoundaryArn
}

// denySigOf names the deny-bearing part of a policy for result sharing.
func denySigOf(doc *Document, name string) string {
	if doc == nil {
		return ""
	}
	for _, s := range doc.Statement {
		if !s.allow() {
			return "|deny=" + name
		}
	}
	return ""
}

func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// attach records an attached_to edge from a managed policy to a principal.
func (b *builder) attach(account string, pol *parsedPolicy, principalID string) {
	pid, err := awsid.PolicyNodeID(account, pol.arn)
	if err != nil {
		return
	}
	b.ensurePolicyNode(account, pol, pid)
	b.addEdge(account, graph.Edge{From: pid, To: principalID, Kind: graph.EdgeAttachedTo})
}

func (b *builder) ensurePolicyNode(account string, pol *parsedPolicy, pid string) {
	if b.seen[account][pid] {
		return
	}
	n := graph.Node{ID: pid, Kind: graph.KindPolicy, Name: pol.name, Attrs: map[string]string{graph.AttrARN: pol.arn}}
	if pol.account == "aws" {
		n.Subtype = "aws_managed"
	} else {
		n.Subtype = "customer_managed"
	}
	if pol.mp != nil {
		n.CreatedAt = pol.mp.CreateDate.Time
		n.Attrs[attrDefaultVersion] = pol.mp.DefaultVersionID
		if pol.mp.Path != "" {
			n.Attrs[attrPath] = pol.mp.Path
		}
		if pol.mp.Description != "" {
			n.Attrs["description"] = pol.mp.Description
		}
	}
	if n.Name == "" {
		n.Name = pol.arn[strings.LastIndex(pol.arn, "/")+1:]
	}
	if !pol.resolved {
		n.Attrs[attrUnresolved] = "true"
	}
	b.addNode(account, n)
	b.addEdge(account, graph.Edge{From: pid, To: awsid.AccountNodeID(account), Kind: graph.EdgeInAccount})
	b.polAccts[pol.arn] = append(b.polAccts[pol.arn], account)
}
