package escalation

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// GCP bindings arrive as grants of a role on a resource (organisation,
// folder, project, service account), and the connector already turns the
// impersonation roles into can_assume edges, which the chain class follows.
// Key creation and IAM-policy rewrites are read from the role names here,
// since predefined roles' permission lists are not in the export.

// keyCreateRoles hold iam.serviceAccountKeys.create.
var keyCreateRoles = map[string]bool{
	"roles/iam.serviceAccountKeyAdmin": true,
	"roles/editor":                     true,
}

// setIAMRoles hold setIamPolicy on the resource they are bound on.
var setIAMRoles = map[string]bool{
	"roles/resourcemanager.organizationAdmin": true,
	"roles/resourcemanager.folderAdmin":       true,
	"roles/resourcemanager.folderIamAdmin":    true,
	"roles/resourcemanager.projectIamAdmin":   true,
	"roles/iam.securityAdmin":                 true,
}

// gcpAssumeClass names the class of a can_assume edge from its via
// ("projects/p roles/iam.serviceAccountTokenCreator").
func gcpAssumeClass(via string) string {
	role := via[strings.LastIndex(via, " ")+1:]
	if strings.Contains(strings.ToLower(role), "tokencreator") {
		return "gcp:getAccessToken"
	}
	return "gcp:actAs"
}

// gcpCovers: a binding on resource node `to` applies to service account sa.
func gcpCovers(to string, sa string) bool {
	if to == sa {
		return true
	}
	k := strings.LastIndex(to, ":")
	res := to[k+1:]
	switch {
	case strings.HasPrefix(res, "organizations/"), strings.HasPrefix(res, "folders/"):
		return true // the source is one organisation: its folders hold its projects
	case strings.HasPrefix(res, "projects/"):
		email := sa[strings.LastIndex(sa, "/")+1:]
		return strings.HasSuffix(email, "@"+strings.TrimPrefix(res, "projects/")+".iam.gserviceaccount.com")
	}
	return false
}

func (a *analyzer) gcp(i int32) []Path {
	holders, via := a.memberships(i)
	src := a.ix.NodeSource(i)
	var sas []int32
	for j := range int32(a.ix.NumNodes()) {
		if a.ix.NodeSource(j) == src && strings.Contains(a.ix.NodeID(j), ":serviceAccounts/") && j != i {
			if a.directAdmin(int32(j)) {
				sas = append(sas, int32(j))
			}
		}
	}
	var out []Path
	for _, h := range holders {
		for _, e := range a.ix.Out(h) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeGrants || ed.Effect == graph.EffectDeny {
				continue
			}
			ev := append(append([]int32(nil), via[h]...), e)
			if setIAMRoles[ed.Action] {
				t, _ := a.ix.Lookup(ed.To)
				out = append(out, Path{Identity: i, Class: "gcp:setIamPolicy", Target: t, Evidence: ev, Conditional: ed.Conditional})
				continue
			}
			for _, sa := range sas {
				if !gcpCovers(ed.To, a.ix.NodeID(sa)) {
					continue
				}
				_, sp := a.admin(sa)
				class := ""
				switch {
				case keyCreateRoles[ed.Action]:
					class = "gcp:keys.create"
				case ed.Action == "roles/iam.serviceAccountAdmin":
					class = "gcp:setIamPolicy"
				}
				if class != "" {
					out = append(out, Path{Identity: i, Class: class, Target: sa,
						Evidence: append(append([]int32(nil), ev...), sp...), Conditional: ed.Conditional})
				}
			}
		}
	}
	return out
}
