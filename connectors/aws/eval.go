package aws

import (
	"slices"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/glob"
)

// Decision is the outcome of evaluating one request against a principal's
// policies, following the IAM evaluation logic for a single account: an
// explicit Deny anywhere wins, otherwise an identity-policy Allow is needed,
// and a permissions boundary must allow it too.
type Decision int

// Decisions.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allow"
	case ExplicitDeny:
		return "explicit_deny"
	}
	return "implicit_deny"
}

// Result is a decision plus whether it rests on conditions: an Allow that
// only a conditional statement grants, or a conditional Deny that might
// apply.
type Result struct {
	Decision    Decision
	Conditional bool
}

// PolicySet is everything IAM evaluates for one principal: the statements
// of its identity policies (inline, attached managed, and for users those
// of their groups) and, if set, its permissions boundary.
type PolicySet struct {
	Identity    []Statement
	Boundary    []Statement
	HasBoundary bool
}

// Evaluate decides whether the principal may perform action on resource.
// Conditions are not evaluated (there is no request context); a matching
// conditional statement makes the result Conditional instead.
func (ps *PolicySet) Evaluate(action, resource string) Result {
	id := match(ps.Identity, action, resource)
	if id.deny {
		return Result{Decision: ExplicitDeny}
	}
	res := Result{Conditional: id.conditionalDeny}
	allowed, allowUncond := id.allowed, id.unconditional
	if ps.HasBoundary {
		b := match(ps.Boundary, action, resource)
		if b.deny {
			return Result{Decision: ExplicitDeny}
		}
		if b.conditionalDeny {
			res.Conditional = true
		}
		if !b.allowed {
			allowed = false
		}
		if !b.unconditional {
			res.Conditional = true
		}
	}
	if !allowed {
		return Result{Decision: ImplicitDeny}
	}
	if !allowUncond {
		res.Conditional = true
	}
	res.Decision = Allowed
	return res
}

// matched is what one list of statements says about an action on a
// resource.
type matched struct {
	deny            bool // an unconditional Deny matches
	conditionalDeny bool // a conditional Deny matches
	allowed         bool // an Allow matches
	unconditional   bool // an Allow without conditions matches
}

// match evaluates stmts alone; it stops at the first unconditional Deny.
func match(stmts []Statement, action, resource string) matched {
	var m matched
	for _, s := range stmts {
		if !s.matchesAction(action) || !s.matchesResource(resource) {
			continue
		}
		if !s.allow() {
			if !s.conditional() {
				return matched{deny: true}
			}
			m.conditionalDeny = true
			continue
		}
		m.allowed = true
		if !s.conditional() {
			m.unconditional = true
		}
	}
	return m
}

// Admin reports whether the principal can perform every action on every
// resource: an Allow of "*" on "*", no Deny of anything, and a boundary (if
// any) that allows everything. conditional is true when that Allow, or a
// Deny that could cut into it, depends on conditions.
func (ps *PolicySet) Admin() (admin, conditional bool) {
	all, cond := allowsEverything(ps.Identity)
	if !all {
		return false, false
	}
	if ps.HasBoundary {
		ball, bcond := allowsEverything(ps.Boundary)
		if !ball {
			return false, false
		}
		cond = cond || bcond
	}
	return true, cond
}

// allowsEverything reports whether stmts allow "*" on "*" with no
// unconditional Deny among them; conditional is true when that Allow is
// itself conditional or a conditional Deny could cut into it.
func allowsEverything(stmts []Statement) (all, conditional bool) {
	uncond := false
	for _, s := range stmts {
		if !s.allow() {
			if !s.conditional() {
				return false, false
			}
			conditional = true
			continue
		}
		if s.allowsEverything() {
			all = true
			uncond = uncond || !s.conditional()
		}
	}
	if !all {
		return false, false
	}
	return true, conditional || !uncond
}

// deniedEverywhere reports whether an unconditional Deny (identity or
// boundary) covers action pattern a on resource pattern r entirely.
func (ps *PolicySet) deniedEverywhere(a, r string) bool {
	for _, list := range [][]Statement{ps.Identity, ps.Boundary} {
		for _, s := range list {
			if !s.allow() && !s.conditional() && s.coversAction(a) && s.coversResource(r) {
				return true
			}
		}
	}
	return false
}

// boundaryNarrow returns the action patterns that survive intersecting a
// with the boundary's Allow statements on resource r. Without a boundary it
// returns a itself. Partially overlapping patterns keep a, which can only
// overstate, never hide, a permission.
func (ps *PolicySet) boundaryNarrow(a, r string) []string {
	if !ps.HasBoundary {
		return []string{a}
	}
	var out []string
	for _, b := range ps.Boundary {
		if !b.allow() || !b.resourceOverlaps(r) {
			continue
		}
		if b.coversAction(a) {
			return []string{a}
		}
		if b.NotAction != nil {
			out = append(out, a)
			continue
		}
		for _, bp := range b.Action {
			bp = normAction(bp)
			switch {
			case glob.Covers(a, bp, true):
				out = append(out, bp)
			case glob.Overlaps(a, bp, true):
				out = append(out, a)
			}
		}
	}
	return out
}

func (s Statement) resourceOverlaps(r string) bool {
	if s.NotResource != nil {
		return !slices.ContainsFunc(s.NotResource, func(p string) bool { return glob.Covers(p, r, false) })
	}
	return s.Resource == nil || slices.ContainsFunc(s.Resource, func(p string) bool { return glob.Overlaps(p, r, false) })
}

// grantPrivilege is the privilege an Allow of action pattern a (or, when
// notAction, of everything but some actions) on resource pattern r gives
// this principal once Denies and the boundary are applied. admin is the
// principal's own Admin result.
func (ps *PolicySet) grantPrivilege(a, r string, notAction, admin bool) graph.Privilege {
	if notAction {
		a = "*"
	}
	a = normAction(a)
	if ps.deniedEverywhere(a, r) {
		return graph.PrivNone
	}
	narrowed := ps.boundaryNarrow(a, r)
	if len(narrowed) == 0 {
		return graph.PrivNone
	}
	if a == "*" && r == "*" && !notAction && admin {
		return graph.PrivAdmin
	}
	if notAction {
		return graph.PrivWrite
	}
	for _, n := range narrowed {
		if ps.deniedEverywhere(n, r) {
			continue
		}
		if !actionIsRead(n) {
			return graph.PrivWrite
		}
	}
	for _, n := range narrowed {
		if !ps.deniedEverywhere(n, r) {
			return graph.PrivRead
		}
	}
	return graph.PrivNone
}

// escalationActions let a principal grant itself (or a principal it
// controls) any permission: credentials for any user, passing any role to
// a service it can run code in, attaching or writing policies, new policy
// versions, group membership, trust and boundary changes. The list is the
// IAM privilege-escalation set Rhino Security Labs and cloudsplaining
// document. Allowed on every resource of their kind, they are admin.
var escalationActions = []string{
	"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:PassRole",
	"iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy",
	"iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy",
	"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy",
	"iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary",
	"iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
}

// escalationResource reports whether resource pattern r covers every IAM
// resource of some kind (every user, role, group or policy), not one named
// principal.
func escalationResource(r string) bool {
	if r == "*" {
		return true
	}
	rest, ok := strings.CutPrefix(r, "arn:aws:iam::")
	if !ok {
		return false
	}
	_, res, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	switch res {
	case "*", "user/*", "role/*", "group/*", "policy/*":
		return true
	}
	return false
}

// escalates reports whether statement s, allowed on resource pattern r,
// gives an escalation action that survives this principal's Denies and
// boundary.
func (ps *PolicySet) escalates(s Statement, r string) bool {
	if !s.allow() || !escalationResource(r) {
		return false
	}
	for _, esc := range escalationActions {
		if s.matchesAction(esc) && ps.grantPrivilege(esc, r, false, false) == graph.PrivWrite {
			return true
		}
	}
	return false
}

// Privilege is the principal's effective privilege over its account: admin
// per Admin or when it can escalate to admin, otherwise the strongest
// privilege any of its Allow grants keeps after Denies and the boundary.
func (ps *PolicySet) Privilege() (graph.Privilege, bool) {
	admin, cond := ps.Admin()
	if admin {
		return graph.PrivAdmin, cond
	}
	for _, s := range ps.Identity {
		for _, r := range resourcesOf(s) {
			if ps.escalates(s, r) {
				return graph.PrivAdmin, s.conditional()
			}
		}
	}
	best := graph.PrivNone
	for _, s := range ps.Identity {
		if !s.allow() {
			continue
		}
		for _, a := range actionsOf(s) {
			for _, r := range resourcesOf(s) {
				p := ps.grantPrivilege(a, r, s.NotAction != nil, false)
				if p.Rank() > best.Rank() {
					best = p
				}
				if best == graph.PrivWrite {
					return best, false
				}
			}
		}
	}
	return best, false
}

// actionsOf returns the action patterns a statement's grants edges carry:
// its Action list, or one "*" standing for a NotAction statement.
func actionsOf(s Statement) []string {
	if s.NotAction != nil {
		return []string{"*"}
	}
	return s.Action
}

func resourcesOf(s Statement) []string {
	if s.NotResource != nil || s.Resource == nil {
		return []string{"*"}
	}
	return s.Resource
}
