package escalation

import (
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// pathsByName runs the engine and returns the classes of the identity
// named name, with the evidence of its first path.
func pathsByName(t *testing.T, ix *graph.Index, r *Result, name string) ([]string, string) {
	t.Helper()
	for i := range int32(ix.NumNodes()) {
		if ix.NodeName(i) != name || !principalKind(ix.NodeKind(i)) {
			continue
		}
		var classes []string
		ps := r.Paths(int32(i))
		for _, p := range ps {
			if !slices.Contains(classes, p.Class) {
				classes = append(classes, p.Class)
			}
		}
		if len(ps) == 0 {
			return nil, ""
		}
		return classes, evidenceString(ix, ps[0])
	}
	t.Fatalf("no identity named %q", name)
	return nil, ""
}

// TestEntraClasses: testdata/entra holds Graph exports (servicePrincipals
// with $expand=owners, Microsoft Graph's appRoleAssignedTo, directory
// roleAssignments with $expand=principal, roleDefinitions copied from the
// connector's fixtures). admin-app is Global Administrator and owned by
// esc-owner. ro-reader (Directory.Read.All, Global Reader) and
// owner-of-reader (owns only ro-reader) must not be found.
func TestEntraClasses(t *testing.T) {
	ix := load(t, [2]any{"entra", connectors.Options{"from": "testdata/entra", "tenant": "contoso"}})
	r := Analyze(ix)
	tests := []struct {
		name, want string
		evidence   []string
	}{
		{"esc-approle", "entra:app-role-assignment", []string{"[AppRoleAssignment.ReadWrite.All Microsoft Graph]"}},
		{"esc-rolemgmt", "entra:role-management", []string{"[RoleManagement.ReadWrite.Directory Microsoft Graph]"}},
		{"esc-owner", "entra:add-secret", []string{"-member_of-> entra:contoso:directoryRole/62e90394-69f5-4237-9190-012177145e10", "[Global Administrator /]"}},
		{"esc-appadmin", "entra:add-secret", []string{"[Application Administrator /]", "[Global Administrator /]"}},
		{"ro-reader", "", nil},
		{"owner-of-reader", "", nil},
		{"admin-app", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			classes, ev := pathsByName(t, ix, r, tt.name)
			if tt.want == "" {
				if len(classes) != 0 {
					t.Fatalf("want no path, got %v", classes)
				}
				return
			}
			if len(classes) != 1 || classes[0] != tt.want {
				t.Fatalf("classes = %v, want [%s]", classes, tt.want)
			}
			for _, want := range tt.evidence {
				if !strings.Contains(ev, want) {
					t.Fatalf("evidence lacks %q in:\n%s", want, ev)
				}
			}
		})
	}
}

// TestGitHubOIDC: testdata/github/org is the GitHub connector's recorded
// export of octokit-fixture-org; testdata/github/aws-authz-oidc.json holds
// two roles trusting its Actions OIDC tokens: gh-deploy-admin (admin, for
// deploy-infra's main branch) and gh-hello-reader (reads one bucket, for
// Hello-World). Found: the terraform-ci deploy key (write on deploy-infra).
// Not found: the octoapp installation (workflows write on all repositories,
// but suspended), the second installation (contents write without
// workflows: GitHub refuses workflow-file changes from it) and the
// read-only deploy key on Hello-World.
func TestGitHubOIDC(t *testing.T) {
	ix := load(t,
		[2]any{"github", connectors.Options{"from": "testdata/github/org", "org": "octokit-fixture-org"}},
		[2]any{"aws", connectors.Options{"authorization-details": "testdata/github/aws-authz-oidc.json"}})
	r := Analyze(ix)
	if i, ok := ix.Lookup("github:octokit-fixture-org:app/octoapp"); !ok || ix.NodeStatus(i) != graph.StatusDisabled {
		t.Fatal("fixture: octoapp should be a suspended installation")
	}
	var found []string
	for _, p := range r.All() {
		if p.Class != "github:oidc-workflow" {
			continue
		}
		found = append(found, ix.NodeID(p.Identity))
		ev := evidenceString(ix, p)
		for _, want := range []string{"[contents:write deploy-infra]",
			"repo/deploy-infra -can_assume-> github:oidc:repo:octokit-fixture-org/deploy-infra:ref:refs/heads/main",
			"-can_assume-> aws:777788889999:role/gh-deploy-admin", "[* *]"} {
			if !strings.Contains(ev, want) {
				t.Errorf("evidence lacks %q in:\n%s", want, ev)
			}
		}
	}
	if len(found) != 1 || found[0] != "github:octokit-fixture-org:deploy_key/101" {
		t.Fatalf("github paths from %v, want only the terraform-ci deploy key", found)
	}
}
