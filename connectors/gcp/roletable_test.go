package gcp

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// TestRoleTable rates Google Cloud's basic roles and common predefined
// roles, each bound to its own service account in a project policy, by
// what Google's "IAM basic and predefined roles reference" says they
// allow; the expected level is written by hand, not by the classifier:
//   - roles/owner manages roles and permissions: admin. roles/editor
//     changes state of most resources: write. roles/viewer and
//     roles/browser only read.
//   - roles/resourcemanager.projectIamAdmin and roles/iam.securityAdmin
//     set the project's IAM policy (resourcemanager.projects.setIamPolicy),
//     so the holder can grant itself roles/owner: admin.
//   - roles/iam.serviceAccountTokenCreator (iam.serviceAccounts.
//     getAccessToken), roles/iam.serviceAccountKeyAdmin
//     (iam.serviceAccountKeys.create), roles/iam.serviceAccountAdmin
//     (iam.serviceAccounts.setIamPolicy), roles/iam.serviceAccountUser
//     (iam.serviceAccounts.actAs) and roles/iam.workloadIdentityUser bound
//     on a project let the holder act as any service account of it,
//     including an owner one: privilege escalation, rated admin as the
//     AWS connector rates iam:PassRole and iam:CreateAccessKey on *.
//   - roles/storage.objectViewer, roles/compute.viewer,
//     roles/logging.viewer, roles/iam.securityReviewer,
//     roles/bigquery.dataViewer, roles/iam.roleViewer and
//     roles/secretmanager.secretAccessor (reads secret payloads) read.
//   - roles/storage.objectAdmin and roles/bigquery.dataEditor write data.
func TestRoleTable(t *testing.T) {
	tests := []struct {
		role string
		want graph.Privilege
	}{
		{"roles/owner", graph.PrivAdmin},
		{"roles/editor", graph.PrivWrite},
		{"roles/viewer", graph.PrivRead},
		{"roles/browser", graph.PrivRead},
		{"roles/resourcemanager.projectIamAdmin", graph.PrivAdmin},
		{"roles/iam.securityAdmin", graph.PrivAdmin},
		{"roles/iam.serviceAccountTokenCreator", graph.PrivAdmin},
		{"roles/iam.serviceAccountKeyAdmin", graph.PrivAdmin},
		{"roles/iam.serviceAccountAdmin", graph.PrivAdmin},
		{"roles/iam.serviceAccountUser", graph.PrivAdmin},
		{"roles/iam.workloadIdentityUser", graph.PrivAdmin},
		{"roles/storage.objectViewer", graph.PrivRead},
		{"roles/storage.objectAdmin", graph.PrivWrite},
		{"roles/secretmanager.secretAccessor", graph.PrivRead},
		{"roles/compute.viewer", graph.PrivRead},
		{"roles/logging.viewer", graph.PrivRead},
		{"roles/iam.securityReviewer", graph.PrivRead},
		{"roles/bigquery.dataViewer", graph.PrivRead},
		{"roles/bigquery.dataEditor", graph.PrivWrite},
		{"roles/iam.roleViewer", graph.PrivRead},
	}
	var cases []connectortest.Rating
	for _, tt := range tests {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(tt.role, "roles/"), ".", "-"))
		if len(name) > 30 {
			name = name[:30]
		}
		id := "gcp:oracle-project:serviceAccounts/" + name + "@oracle-project.iam.gserviceaccount.com"
		cases = append(cases, connectortest.Rating{Name: tt.role, ID: id, Want: tt.want})
	}
	connectortest.Ratings(t, connectortest.Read(t, newFromDir(t, "testdata/roles", "oracle-project")), cases)
}
