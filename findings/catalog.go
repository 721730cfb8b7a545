package findings

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/findings/escalation"
	"github.com/steward-oss/steward/findings/sod"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

func plan(kinds []graph.Kind, filters ...query.Filter) *query.Plan {
	return &query.Plan{Version: query.Version, Kinds: kinds, Filters: filters}
}

func eq(field string, v any) query.Filter { return query.Filter{Field: field, Op: "eq", Value: v} }

var active = eq("status", graph.StatusActive)

// catalog is every check, in OWASP order, then the escalation and SoD
// checks (both OWASP NHI5).
func catalog(rules *sod.Rules) []*Check {
	nhi := query.DefaultKinds
	creds := []graph.Kind{graph.KindCredential}
	cs := []*Check{
		{ID: "NHI1", OWASP: "NHI1", Title: "Improper offboarding: active NHI whose every owner has left", Severity: "high",
			Sees:      "owners inferred from HR rosters, tags, managedBy, installers and creator events; departed people from the roster",
			CannotSee: "owners nobody recorded anywhere, and people who left but are still active in the roster",
			Query:     plan(nhi, eq("owner_status", "departed"), active)},
		{ID: "NHI2", OWASP: "NHI2", Title: "Secret leakage: active credential a secret scanner found", Severity: "critical",
			Sees:      "gitleaks/trufflehog findings matched to credentials by fingerprint",
			CannotSee: "leaks no scanner report covers (chat, tickets, images), and credentials without a public fingerprint",
			Query:     plan(creds, eq("leaked", true), active)},
		{ID: "NHI3", OWASP: "NHI3", Title: "Vulnerable third-party NHI: vendor app or external principal with write or admin", Severity: "medium",
			Sees:      "Entra service principals owned by another tenant, AWS roles trusting external accounts, their derived privilege",
			CannotSee: "the vendor's own security, and third parties that authenticate with credentials issued to an internal identity",
			Query:     plan(nil, eq("attr:third_party", "true"), query.Filter{Field: "privilege", Op: "gte", Value: "write"})},
		{ID: "NHI4", OWASP: "NHI4", Title: "Insecure authentication: legacy long-lived tokens and passwords on NHIs", Severity: "medium",
			Sees:      "Kubernetes legacy service-account token secrets and password credentials",
			CannotSee: "how clients actually authenticate (TLS, token binding) beyond the credential types the sources list",
			Query:     plan(creds, query.Filter{Field: "subtype", Op: "in", Values: []any{"sa_token", "password"}}, active)},
		{ID: "NHI5", OWASP: "NHI5", Title: "Overprivileged NHI: admin on its account", Severity: "high",
			Sees:      "privilege derived through groups, roles, policies and trust, capped by each connector's exact evaluation",
			CannotSee: "SCPs and resource policies the exports leave out, and whether the admin rights are needed",
			Query:     plan(nhi, eq("privilege", "admin"), active)},
		{ID: "NHI6", OWASP: "NHI6", Title: "Insecure cloud deployment configuration: CI/CD OIDC trust with a wildcard subject", Severity: "high",
			Sees:      "workload identities (GitHub Actions OIDC) and the subject their trust policy accepts",
			CannotSee: "pipeline definitions, runner hardening and secrets stored inside CI systems",
			Query:     plan([]graph.Kind{graph.KindWorkload}, query.Filter{Field: "attr:subject", Op: "contains", Value: "*"})},
		{ID: "NHI7", OWASP: "NHI7", Title: "Long-lived secret: active credential not rotated in 90 days", Severity: "medium",
			Sees:      "creation and rotation dates the sources record for keys, secrets, tokens and certificates",
			CannotSee: "secrets kept outside the connected systems (config files, vaults not connected)",
			Query:     plan(creds, query.Filter{Field: "rotated_days", Op: "gt", Value: 90}, active)},
		{ID: "NHI8", OWASP: "NHI8", Title: "Environment isolation: one NHI holds grants in production and non-production", Severity: "medium",
			Sees:      "the environment the sources tag on accounts, projects and resources, and what each NHI's grants reach",
			CannotSee: "environments no source labels, and network-level isolation",
			run:       envIsolation},
		{ID: "NHI9", OWASP: "NHI9", Title: "NHI reuse: one identity or credential used by three or more different clients", Severity: "low",
			Sees:      "user agents recorded on use (CloudTrail, Kubernetes audit); distinct client products per identity",
			CannotSee: "reuse behind one client product (several services on one SDK) and use no audit log records",
			run:       reuse},
		{ID: "NHI10", OWASP: "NHI10", Title: "Human use of NHI: service account with a console password or browser use", Severity: "medium",
			Sees:      "IAM users used by software that also have console passwords, and browser user agents on their use",
			CannotSee: "people running scripts with a service account's key from their laptop with an SDK user agent",
			run:       humanUse},
		{ID: "ESC", OWASP: "NHI5", Title: "Privilege escalation: can make itself admin", Severity: "critical",
			Sees:      "AWS IAM, Kubernetes RBAC, GCP IAM, Entra roles and app permissions, GitHub OIDC trust (see findings/escalation)",
			CannotSee: "resources the exports do not list (Lambda functions, running pods and their service accounts), SCPs, conditions",
			Query:     plan(nil, eq("admin_via_escalation", true)),
			run:       escalations},
		{ID: "SOD", OWASP: "NHI5", Title: "Toxic combination: holds duties that must be separate", Severity: "high",
			Sees:      "every grant an identity reaches through groups, roles, linked identities and credentials, in every source",
			CannotSee: "duties granted outside the connected sources, and approvals enforced by process rather than permission",
			run:       sodRun(rules)},
	}
	for _, c := range cs {
		if c.run == nil {
			c.run = planCheck
		}
	}
	return cs
}

func escalations(_ context.Context, ix *graph.Index, _ time.Time, c *Check) ([]Finding, error) {
	var out []Finding
	for _, p := range escalation.Of(ix).All() {
		detail := p.Class
		if p.Target >= 0 {
			detail += " via " + ix.NodeID(p.Target)
		}
		if p.Conditional {
			detail += " (conditional)"
		}
		out = append(out, newFinding(ix, c, p.Identity, detail, p.Evidence))
	}
	return out, nil
}

func sodRun(rules *sod.Rules) func(context.Context, *graph.Index, time.Time, *Check) ([]Finding, error) {
	return func(_ context.Context, ix *graph.Index, _ time.Time, c *Check) ([]Finding, error) {
		var out []Finding
		for _, v := range rules.Evaluate(ix) {
			var ev []int32
			var names []string
			for _, h := range v.Held {
				ev = append(ev, h.Evidence...)
				names = append(names, h.Capability)
			}
			f := newFinding(ix, c, v.Identity, v.Rule.ID+": "+strings.Join(names, " + "), ev)
			f.Severity = v.Rule.Severity
			out = append(out, f)
		}
		return out, nil
	}
}

// envOf is the environment a node is in: its own attribute, or its
// account's.
func envOf(ix *graph.Index, n int32) string {
	if env := ix.NodeAttr(n, graph.AttrEnvironment); env != "" {
		return env
	}
	for _, e := range ix.Out(n) {
		if ed := ix.Edge(e); ed.Kind == graph.EdgeInAccount {
			if a, ok := ix.Lookup(ed.To); ok {
				return ix.NodeAttr(a, graph.AttrEnvironment)
			}
		}
	}
	return ""
}

func envIsolation(_ context.Context, ix *graph.Index, _ time.Time, c *Check) ([]Finding, error) {
	var out []Finding
	for i := range int32(ix.NumNodes()) {
		if k := ix.NodeKind(i); !k.IsNHI() || k == graph.KindCredential || ix.NodeStatus(i) == graph.StatusDisabled || query.IsFindingSource(ix.NodeSource(i)) {
			continue
		}
		var prod, other int32 = -1, -1
		var otherEnv string
		walkGrants(ix, int32(i), func(e int32) bool {
			t, ok := ix.Lookup(ix.Edge(e).To)
			if !ok {
				return true
			}
			switch env := envOf(ix, t); {
			case env == "prod" || env == "production":
				if prod < 0 {
					prod = e
				}
			case env != "":
				if other < 0 {
					other, otherEnv = e, env
				}
			}
			return prod < 0 || other < 0
		})
		if prod >= 0 && other >= 0 {
			out = append(out, newFinding(ix, c, int32(i), "prod and "+otherEnv, []int32{prod, other}))
		}
	}
	return out, nil
}

// walkGrants visits the allow grants of i, its groups, assumable roles and
// their attached policies (one level of each, which is where environment
// separation fails in practice), until fn returns false.
func walkGrants(ix *graph.Index, i int32, fn func(e int32) bool) {
	nodes := []int32{i}
	for _, e := range ix.Out(i) {
		if k := ix.Edge(e).Kind; k == graph.EdgeMemberOf || k == graph.EdgeCanAssume {
			if t, ok := ix.Lookup(ix.Edge(e).To); ok {
				nodes = append(nodes, t)
			}
		}
	}
	for _, n := range nodes {
		holders := []int32{n}
		for _, e := range ix.In(n) {
			if ix.Edge(e).Kind == graph.EdgeAttachedTo {
				if p, ok := ix.Lookup(ix.Edge(e).From); ok {
					holders = append(holders, p)
				}
			}
		}
		for _, h := range holders {
			for _, e := range ix.Out(h) {
				if ed := ix.Edge(e); ed.Kind == graph.EdgeGrants && ed.Effect != graph.EffectDeny {
					if !fn(e) {
						return
					}
				}
			}
		}
	}
}

// client is the product of a user agent: "Boto3/1.34 md/..." -> "boto3".
func client(ua string) string {
	f := strings.Fields(ua)
	if len(f) == 0 {
		return ""
	}
	p, _, _ := strings.Cut(f[0], "/")
	return strings.ToLower(p)
}

func reuse(_ context.Context, ix *graph.Index, _ time.Time, c *Check) ([]Finding, error) {
	var out []Finding
	for i := range int32(ix.NumNodes()) {
		if !ix.NodeKind(i).IsNHI() || ix.NodeStatus(i) == graph.StatusDisabled || query.IsFindingSource(ix.NodeSource(i)) {
			continue
		}
		seen := map[string]int32{}
		for _, e := range ix.Out(int32(i)) {
			ed := ix.Edge(e)
			if ed.Kind != graph.EdgeUsed {
				continue
			}
			if cl := client(ed.Attrs[graph.AttrUserAgent]); cl != "" {
				if _, ok := seen[cl]; !ok {
					seen[cl] = e
				}
			}
		}
		if len(seen) < 3 {
			continue
		}
		var names []string
		var ev []int32
		for cl, e := range seen {
			names = append(names, cl)
			ev = append(ev, e)
		}
		sort.Strings(names)
		sort.Slice(ev, func(a, b int) bool { return ev[a] < ev[b] })
		out = append(out, newFinding(ix, c, int32(i), fmt.Sprintf("%d clients: %s", len(names), strings.Join(names, ", ")), ev))
	}
	return out, nil
}

func humanUse(_ context.Context, ix *graph.Index, _ time.Time, c *Check) ([]Finding, error) {
	var out []Finding
	for _, i := range ix.NodesOfKind(graph.KindServiceAccount) {
		if ix.NodeStatus(i) == graph.StatusDisabled {
			continue
		}
		var detail []string
		var ev []int32
		if ix.NodeAttr(i, "console_password") == "true" {
			detail = append(detail, "console password")
		}
		ids := []int32{int32(i)}
		for _, e := range ix.Out(int32(i)) {
			if ix.Edge(e).Kind == graph.EdgeHasCredential {
				if cr, ok := ix.Lookup(ix.Edge(e).To); ok {
					ids = append(ids, cr)
				}
			}
		}
	uses:
		for _, id := range ids {
			for _, e := range ix.Out(id) {
				ed := ix.Edge(e)
				if ed.Kind == graph.EdgeUsed && strings.HasPrefix(ed.Attrs[graph.AttrUserAgent], "Mozilla/") {
					detail = append(detail, "browser use")
					ev = append(ev, e)
					break uses
				}
			}
		}
		if len(detail) > 0 {
			out = append(out, newFinding(ix, c, int32(i), strings.Join(detail, ", "), ev))
		}
	}
	return out, nil
}
