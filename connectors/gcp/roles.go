package gcp

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// iamAdminRoles can rewrite the IAM policy of the resource they are bound
// on, so their holder can grant itself roles/owner there, or act as its
// service accounts: they count as admin of that resource even though they
// do not list every permission.
var iamAdminRoles = map[string]bool{
	"roles/resourcemanager.organizationAdmin": true,
	"roles/resourcemanager.folderAdmin":       true,
	"roles/resourcemanager.folderIamAdmin":    true,
	"roles/resourcemanager.projectIamAdmin":   true,
	"roles/iam.securityAdmin":                 true,
	// Acting as a service account of the resource (mint its tokens, make
	// keys for it, rewrite who may, run code as it) reaches whatever
	// that account holds, an owner one included: privilege escalation,
	// rated admin as the AWS connector rates iam:PassRole on *.
	"roles/iam.serviceAccountTokenCreator": true,
	"roles/iam.serviceAccountKeyAdmin":     true,
	"roles/iam.serviceAccountAdmin":        true,
	"roles/iam.serviceAccountUser":         true,
	"roles/iam.workloadIdentityUser":       true,
}

// impersonationRoles let a member act as or mint tokens for a service
// account (iam.serviceAccounts.actAs / getAccessToken / getOpenIdToken),
// so they yield can_assume edges. roles/owner and roles/editor also hold
// actAs; they are included because a project editor can run code as any
// service account of the project.
var impersonationRoles = map[string]bool{
	"roles/iam.serviceAccountUser":               true,
	"roles/iam.serviceAccountTokenCreator":       true,
	"roles/iam.workloadIdentityUser":             true,
	"roles/iam.serviceAccountOpenIdTokenCreator": true,
	"roles/owner":  true,
	"roles/editor": true,
}

// readSuffixes end the names of predefined roles that only read.
var readSuffixes = []string{"viewer", "reader", "browser", "lister", "securityreviewer", "accessor"}

// classifyRole derives the privilege a role gives on the resource it is
// bound on. Basic roles are fixed (owner admin, editor write, viewer read);
// predefined roles are classified by name, since their permission lists are
// not in the export; custom roles are write because nothing says they only
// read.
func classifyRole(role string) graph.Privilege {
	switch role {
	case "roles/owner":
		return graph.PrivAdmin
	case "roles/editor":
		return graph.PrivWrite
	case "roles/viewer", "roles/browser":
		return graph.PrivRead
	}
	if iamAdminRoles[role] {
		return graph.PrivAdmin
	}
	if !strings.HasPrefix(role, "roles/") {
		return graph.PrivWrite // custom role: projects/P/roles/X or organizations/O/roles/X
	}
	name := strings.ToLower(role[strings.LastIndex(role, ".")+1:])
	name = strings.TrimPrefix(name, "roles/")
	// secretAccessor reads secret payloads: read access, but to secrets.
	for _, s := range readSuffixes {
		if strings.HasSuffix(name, s) {
			return graph.PrivRead
		}
	}
	return graph.PrivWrite
}
