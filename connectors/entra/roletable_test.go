package entra

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// TestRoleTable rates Microsoft Entra built-in directory roles and
// Microsoft Graph application permissions, each held by its own service
// principal (testdata/roles), by what Microsoft documents them for; the
// expected levels are written by hand, not by the classifier:
//   - Directory roles ("Microsoft Entra built-in roles"): Global
//     Administrator manages everything; Privileged Role Administrator
//     assigns any role, Global Administrator included; Privileged
//     Authentication Administrator resets any administrator's
//     credentials; Application Administrator and Cloud Application
//     Administrator add credentials to any application, one holding
//     Global Administrator or RoleManagement.ReadWrite.Directory
//     included (Microsoft marks all five "privileged"): admin. User,
//     Groups, Exchange and Security Administrator manage their area:
//     write. Global Reader, Directory Readers, Security Reader and
//     Reports Reader: read.
//   - Graph application permissions ("Microsoft Graph permissions
//     reference"): RoleManagement.ReadWrite.Directory assigns directory
//     roles, AppRoleAssignment.ReadWrite.All grants any app permission,
//     the former included, and Application.ReadWrite.All adds
//     credentials to any application: admin (escalation).
//     Directory.ReadWrite.All, Group.ReadWrite.All, Mail.Send,
//     Mail.ReadWrite and Files.ReadWrite.All change data: write.
//     Directory.Read.All, User.Read.All, Application.Read.All and
//     Policy.Read.All: read.
func TestRoleTable(t *testing.T) {
	tests := []struct {
		principal string
		want      graph.Privilege
	}{
		{"role-global-administrator", graph.PrivAdmin},
		{"role-privileged-role-administrator", graph.PrivAdmin},
		{"role-privileged-authentication-administrator", graph.PrivAdmin},
		{"role-application-administrator", graph.PrivAdmin},
		{"role-cloud-application-administrator", graph.PrivAdmin},
		{"role-user-administrator", graph.PrivWrite},
		{"role-groups-administrator", graph.PrivWrite},
		{"role-exchange-administrator", graph.PrivWrite},
		{"role-security-administrator", graph.PrivWrite},
		{"role-global-reader", graph.PrivRead},
		{"role-directory-readers", graph.PrivRead},
		{"role-security-reader", graph.PrivRead},
		{"role-reports-reader", graph.PrivRead},
		{"perm-rolemanagement-readwrite-directory", graph.PrivAdmin},
		{"perm-approleassignment-readwrite-all", graph.PrivAdmin},
		{"perm-application-readwrite-all", graph.PrivAdmin},
		{"perm-directory-readwrite-all", graph.PrivWrite},
		{"perm-group-readwrite-all", graph.PrivWrite},
		{"perm-mail-send", graph.PrivWrite},
		{"perm-mail-readwrite", graph.PrivWrite},
		{"perm-files-readwrite-all", graph.PrivWrite},
		{"perm-directory-read-all", graph.PrivRead},
		{"perm-user-read-all", graph.PrivRead},
		{"perm-application-read-all", graph.PrivRead},
		{"perm-policy-read-all", graph.PrivRead},
	}
	sgs := connectortest.Read(t, openReader(t, connectors.Options{"from": "testdata/roles"}, connectors.Env{}))
	byName := map[string]string{}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.Kind == graph.KindServiceAccount || n.Kind == graph.KindOAuthApp {
				if strings.HasPrefix(n.Name, "role-") || strings.HasPrefix(n.Name, "perm-") {
					byName[n.Name] = n.ID
				}
			}
		}
	}
	if len(byName) != len(tests) {
		t.Errorf("%d role/perm service principals loaded, want %d", len(byName), len(tests))
	}
	var cases []connectortest.Rating
	for _, tt := range tests {
		cases = append(cases, connectortest.Rating{Name: tt.principal, ID: byName[tt.principal], Want: tt.want})
	}
	connectortest.Ratings(t, sgs, cases)
}
