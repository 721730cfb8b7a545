package escalation

import (
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/glob"
)

// AWS paths are evaluated on the principal's effective permissions: every
// grants edge of the principal, its groups and the policies attached to
// either, an explicit unconditional Deny wins, and a permissions boundary
// must allow the action too. Each step's target must exist in the graph and
// be admin (an admin user to mint a key for, an admin role a service
// trusts), so a policy that only looks dangerous is not a path.

const (
	attrBoundary           = "permissions_boundary"
	attrBoundaryUnresolved = "permissions_boundary_unresolved"
	notActionPrefix        = "NotAction:"
	notResourcePrefix      = "NotResource:"
	awsServicePrefix       = "aws:service/"
)

// awsGrant is one grants edge a principal holds, with the edges that give
// it to the principal (group memberships, policy attachment).
type awsGrant struct {
	edge int32
	via  []int32
}

type awsPerms struct {
	ix       *graph.Index
	self     *graph.Node
	allows   []awsGrant
	denies   []awsGrant
	boundary []awsGrant
	bounded  bool
}

// Permissions is a principal's (or one policy's) AWS grants, for asking
// whether an action is allowed and which edges allow it.
type Permissions = awsPerms

func (a *analyzer) awsPerms(i int32) *awsPerms {
	self := a.ix.Node(i)
	p := &awsPerms{ix: a.ix, self: &self}
	holders, via := a.memberships(i)
	for _, h := range holders {
		p.addGrants(h, via[h])
		for _, e := range a.ix.In(h) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeAttachedTo {
				continue
			}
			if pol, ok := a.ix.Lookup(ed.From); ok && a.ix.NodeKind(pol) == graph.KindPolicy {
				p.addGrants(pol, append(append([]int32(nil), via[h]...), e))
			}
		}
	}
	if arn := p.self.Attrs[attrBoundary]; arn != "" && p.self.Attrs[attrBoundaryUnresolved] != "true" {
		if pol, ok := a.policyByARN(p.self.Source, arn); ok {
			p.bounded = true
			for _, e := range a.ix.Out(pol) {
				if ed := a.ix.Edge(e); ed.Kind == graph.EdgeGrants && ed.Effect != graph.EffectDeny {
					p.boundary = append(p.boundary, awsGrant{edge: e})
				}
			}
		}
	}
	return p
}

// PolicyPermissions is the grants of policy node i alone (an inline
// policy's are the grants of its holder whose via names it), the way
// cloudsplaining judges a policy: no denies from elsewhere, no boundary.
func PolicyPermissions(ix *graph.Index, edges []int32) *Permissions {
	p := &awsPerms{ix: ix, self: &graph.Node{}}
	for _, e := range edges {
		if ix.Edge(e).Effect == graph.EffectDeny {
			p.denies = append(p.denies, awsGrant{edge: e})
		} else {
			p.allows = append(p.allows, awsGrant{edge: e})
		}
	}
	return p
}

func (p *awsPerms) addGrants(from int32, via []int32) {
	for _, e := range p.ix.Out(from) {
		ed := p.ix.Edge(e)
		if ed.Kind != graph.EdgeGrants {
			continue
		}
		g := awsGrant{edge: e, via: via}
		if ed.Effect == graph.EffectDeny {
			p.denies = append(p.denies, g)
		} else {
			p.allows = append(p.allows, g)
		}
	}
}

// Allowed reports whether action is allowed on resource ("" for any
// resource), with the edges that allow it and whether a condition applies.
func (p *awsPerms) Allowed(action, resource string) (ev []int32, conditional, ok bool) {
	for _, d := range p.denies {
		ed := p.ix.Edge(d.edge)
		if ed.Conditional || !actionMatch(ed.Action, action) {
			continue
		}
		if resource == "" && ed.Resource == "*" || resource != "" && p.resourceMatch(ed.Resource, resource) {
			return nil, false, false
		}
	}
	if p.bounded {
		in := false
		for _, b := range p.boundary {
			ed := p.ix.Edge(b.edge)
			if actionMatch(ed.Action, action) && (resource == "" || p.resourceMatch(ed.Resource, resource)) {
				in = true
				break
			}
		}
		if !in {
			return nil, false, false
		}
	}
	best := -1
	for k, g := range p.allows {
		ed := p.ix.Edge(g.edge)
		if !actionMatch(ed.Action, action) || (resource != "" && !p.resourceMatch(ed.Resource, resource)) {
			continue
		}
		if best < 0 || (p.ix.Edge(p.allows[best].edge).Conditional && !ed.Conditional) {
			best = k
		}
	}
	if best < 0 {
		return nil, false, false
	}
	g := p.allows[best]
	return append(append([]int32(nil), g.via...), g.edge), p.ix.Edge(g.edge).Conditional, true
}

// allowedAll: every action allowed (on any resource); evidence concatenated.
func (p *awsPerms) allowedAll(actions ...string) ([]int32, bool, bool) {
	var ev []int32
	cond := false
	for _, act := range actions {
		e, c, ok := p.Allowed(act, "")
		if !ok {
			return nil, false, false
		}
		ev, cond = append(ev, e...), cond || c
	}
	return ev, cond, true
}

func actionMatch(pattern, action string) bool {
	if list, ok := strings.CutPrefix(pattern, notActionPrefix); ok {
		for _, x := range strings.Split(list, ",") {
			if glob.Match(x, action, true) {
				return false
			}
		}
		return true
	}
	return glob.Match(pattern, action, true)
}

func (p *awsPerms) resourceMatch(pattern, resource string) bool {
	if list, ok := strings.CutPrefix(pattern, notResourcePrefix); ok {
		for _, x := range strings.Split(list, ",") {
			if p.resourceMatch(x, resource) {
				return false
			}
		}
		return true
	}
	if strings.Contains(pattern, "${") {
		// Policy variables: only ${aws:username} is known here, as the
		// principal's own name; any other variable matches nothing.
		pattern = strings.ReplaceAll(pattern, "${aws:username}", p.self.Name)
		if strings.Contains(pattern, "${") {
			return false
		}
	}
	return glob.Match(pattern, resource, false)
}

// awsTargets are the users, groups, roles and policies of one source, by
// ARN type.
type awsTargets struct {
	users, groups, roles, policies []int32
}

func (a *analyzer) awsTargetsOf(source string) *awsTargets {
	if a.awsT == nil {
		a.awsT = map[string]*awsTargets{}
		for i := range int32(a.ix.NumNodes()) {
			src := a.ix.NodeSource(i)
			if graph.SourceType(src) != "aws" {
				continue
			}
			t := a.awsT[src]
			if t == nil {
				t = &awsTargets{}
				a.awsT[src] = t
			}
			switch arnType(a.ix.NodeAttr(i, graph.AttrARN)) {
			case "user":
				t.users = append(t.users, int32(i))
			case "group":
				t.groups = append(t.groups, int32(i))
			case "role":
				t.roles = append(t.roles, int32(i))
			case "policy":
				t.policies = append(t.policies, int32(i))
			}
		}
	}
	if t := a.awsT[source]; t != nil {
		return t
	}
	return &awsTargets{}
}

func (a *analyzer) policyByARN(source, arn string) (int32, bool) {
	for _, i := range a.awsTargetsOf(source).policies {
		if a.ix.NodeAttr(i, graph.AttrARN) == arn {
			return i, true
		}
	}
	// AWS-managed policies are shared by every account's source.
	for _, i := range a.ix.NodesOfKind(graph.KindPolicy) {
		if a.ix.NodeAttr(i, graph.AttrARN) == arn {
			return i, true
		}
	}
	return 0, false
}

// arnType is "user", "group", "role" or "policy" for an IAM ARN.
func arnType(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) < 5 || parts[1] != "iam" {
		return ""
	}
	t, _, _ := strings.Cut(parts[4], "/")
	return t
}

// passRoleServices: the service a role must trust to be passed, and the
// action sets (any one suffices) that create something running as it.
var passRoleServices = []struct {
	class, service string
	actions        [][]string
}{
	{"aws:PassRole:lambda", "lambda.amazonaws.com", [][]string{
		{"lambda:CreateFunction", "lambda:InvokeFunction"},
		{"lambda:CreateFunction", "lambda:CreateEventSourceMapping"},
		{"lambda:CreateFunction", "lambda:AddPermission"}}},
	{"aws:PassRole:ec2", "ec2.amazonaws.com", [][]string{{"ec2:RunInstances"}, {"ec2:RequestSpotInstances"}}},
	{"aws:PassRole:glue", "glue.amazonaws.com", [][]string{{"glue:CreateDevEndpoint"}, {"glue:CreateJob", "glue:StartJobRun"}}},
	{"aws:PassRole:cloudformation", "cloudformation.amazonaws.com", [][]string{{"cloudformation:CreateStack"}}},
	{"aws:PassRole:ecs", "ecs-tasks.amazonaws.com", [][]string{
		{"ecs:RegisterTaskDefinition", "ecs:RunTask"},
		{"ecs:RegisterTaskDefinition", "ecs:StartTask"},
		{"ecs:RegisterTaskDefinition", "ecs:CreateService"}}},
}

func (a *analyzer) aws(i int32) []Path {
	self := a.ix.Node(i)
	selfType := arnType(self.Attrs[graph.AttrARN])
	if selfType != "user" && selfType != "role" {
		return nil
	}
	p := a.awsPerms(i)
	if len(p.allows) == 0 {
		return nil
	}
	t := a.awsTargetsOf(self.Source)
	var out []Path
	add := func(class string, target int32, ev []int32, cond bool, targetPath []int32) {
		out = append(out, Path{Identity: i, Class: class, Target: target,
			Evidence: append(append([]int32(nil), ev...), targetPath...), Conditional: cond})
	}
	holders, via := a.memberships(i)

	// Rewrite a customer-managed policy attached to itself or its groups.
	for _, h := range holders {
		for _, e := range a.ix.In(h) {
			ed := a.ix.Edge(e)
			pol, ok := a.ix.Lookup(ed.From)
			if ed.Kind != graph.EdgeAttachedTo || !ok || !strings.Contains(a.ix.NodeAttr(pol, graph.AttrARN), ":policy/") ||
				strings.HasPrefix(a.ix.NodeAttr(pol, graph.AttrARN), "arn:aws:iam::aws:") {
				continue
			}
			arn := a.ix.NodeAttr(pol, graph.AttrARN)
			for _, act := range []string{"CreatePolicyVersion", "SetDefaultPolicyVersion"} {
				if ev, c, ok := p.Allowed("iam:"+act, arn); ok {
					add("aws:"+act, pol, ev, c, append(append([]int32(nil), via[h]...), e))
				}
			}
		}
	}
	// Write its own identity policies.
	if selfType == "user" {
		for _, act := range []string{"AttachUserPolicy", "PutUserPolicy"} {
			if ev, c, ok := p.Allowed("iam:"+act, self.Attrs[graph.AttrARN]); ok {
				add("aws:"+act, i, ev, c, nil)
			}
		}
		for _, g := range holders[1:] {
			arn := a.ix.NodeAttr(g, graph.AttrARN)
			if arnType(arn) != "group" {
				continue
			}
			for _, act := range []string{"AttachGroupPolicy", "PutGroupPolicy"} {
				if ev, c, ok := p.Allowed("iam:"+act, arn); ok {
					add("aws:"+act, g, ev, c, via[g])
				}
			}
		}
		for _, g := range t.groups {
			if ok, gp := a.directAdmin(g), a.privPath(g); ok {
				if ev, c, ok := p.Allowed("iam:AddUserToGroup", a.ix.NodeAttr(g, graph.AttrARN)); ok {
					add("aws:AddUserToGroup", g, ev, c, gp)
				}
			}
		}
	}
	// Roles it is or can assume: write their policies, then act as them.
	roles := map[int32][]int32{}
	if selfType == "role" {
		roles[i] = nil
	}
	for _, e := range a.ix.Out(i) {
		if ed := a.ix.Edge(e); ed.Kind == graph.EdgeCanAssume {
			if r, ok := a.ix.Lookup(ed.To); ok && arnType(a.ix.NodeAttr(r, graph.AttrARN)) == "role" {
				roles[r] = []int32{e}
			}
		}
	}
	for _, r := range sortedKeys(roles) {
		arn := a.ix.NodeAttr(r, graph.AttrARN)
		for _, act := range []string{"AttachRolePolicy", "PutRolePolicy"} {
			if ev, c, ok := p.Allowed("iam:"+act, arn); ok {
				add("aws:"+act, r, ev, c, roles[r])
			}
		}
	}
	// Take over an admin user.
	for _, u := range t.users {
		if u == i {
			continue
		}
		ok, up := a.directAdmin(u), a.privPath(u)
		if !ok {
			continue
		}
		for _, act := range []string{"CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"} {
			if ev, c, ok := p.Allowed("iam:"+act, a.ix.NodeAttr(u, graph.AttrARN)); ok {
				add("aws:"+act, u, ev, c, up)
			}
		}
	}
	// Admin roles: trust itself, or pass them to a service it can run.
	for _, r := range t.roles {
		if r == i {
			continue
		}
		ok, rp := a.directAdmin(r), a.privPath(r)
		if !ok {
			continue
		}
		arn := a.ix.NodeAttr(r, graph.AttrARN)
		if ev, c, ok := p.Allowed("iam:UpdateAssumeRolePolicy", arn); ok {
			if ev2, c2, ok := p.Allowed("sts:AssumeRole", arn); ok {
				add("aws:UpdateAssumeRolePolicy", r, append(ev, ev2...), c || c2, rp)
			}
		}
		pass, pc, ok := p.Allowed("iam:PassRole", arn)
		if !ok {
			continue
		}
		for _, s := range passRoleServices {
			trust, trusted := a.trustedBy(r, s.service)
			if !trusted {
				continue
			}
			for _, set := range s.actions {
				if ev, c, ok := p.allowedAll(set...); ok {
					add(s.class, r, append(append(append([]int32(nil), pass...), ev...), trust), pc || c, rp)
					break
				}
			}
		}
	}
	return out
}

// trustedBy returns the can_assume edge by which service may assume role r.
func (a *analyzer) trustedBy(r int32, service string) (int32, bool) {
	for _, e := range a.ix.In(r) {
		ed := a.ix.Edge(e)
		if ed.Kind == graph.EdgeCanAssume && strings.EqualFold(ed.From, awsServicePrefix+service) {
			return e, true
		}
	}
	return 0, false
}
