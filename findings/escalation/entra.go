package escalation

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Entra paths: Microsoft Graph application permissions that write role
// assignments, and the ability to add a credential to an admin service
// principal (as its owner, its application's owner, or through a permission
// or directory role that manages every application).

// appManagers can add credentials to any application or service principal.
var appManagers = map[string]bool{
	"Application.ReadWrite.All":       true,
	"Application Administrator":       true,
	"Cloud Application Administrator": true,
}

// roleWriters assign directory roles or app roles.
var roleWriters = map[string]string{
	"RoleManagement.ReadWrite.Directory": "entra:role-management",
	"Privileged Role Administrator":      "entra:role-management",
	"AppRoleAssignment.ReadWrite.All":    "entra:app-role-assignment",
}

func (a *analyzer) entra(i int32) []Path {
	self := a.ix.Node(i)
	holders, via := a.memberships(i)
	var out []Path
	manager := []int32(nil)
	for _, h := range holders {
		for _, e := range a.ix.Out(h) {
			ed := a.ix.Edge(e)
			if ed.Kind != graph.EdgeGrants || ed.Effect == graph.EffectDeny {
				continue
			}
			ev := append(append([]int32(nil), via[h]...), e)
			if c, ok := roleWriters[ed.Action]; ok {
				out = append(out, Path{Identity: i, Class: c, Target: -1, Evidence: ev})
			}
			if appManagers[ed.Action] && manager == nil {
				manager = ev
			}
		}
	}
	ids := entraSelfIDs(&self)
	for j := range int32(a.ix.NumNodes()) {
		if tk := a.ix.NodeKind(j); j == i || a.ix.NodeSource(j) != self.Source || (tk != graph.KindOAuthApp && tk != graph.KindServiceAccount && tk != graph.KindWorkload) {
			continue
		}
		_, tp := a.admin(int32(j))
		if !a.directAdmin(int32(j)) {
			continue
		}
		t := a.ix.Node(j)
		if owned := ownedBy(&t, ids); owned || manager != nil {
			ev := manager
			if owned {
				ev = nil
			}
			out = append(out, Path{Identity: i, Class: "entra:add-secret", Target: int32(j),
				Evidence: append(append([]int32(nil), ev...), tp...)})
			if !owned {
				manager = nil // one path is enough for "can manage every app"
			}
		}
	}
	return out
}

// entraSelfIDs are the names managed_by may list for an identity: its
// object id, user principal name and e-mail.
func entraSelfIDs(n *graph.Node) []string {
	var ids []string
	if k := strings.LastIndex(n.ID, "/"); k >= 0 {
		ids = append(ids, strings.ToLower(n.ID[k+1:]))
	}
	for _, key := range []string{"object_id", "upn", "user_principal_name", graph.AttrEmail} {
		if v := n.Attrs[key]; v != "" {
			ids = append(ids, strings.ToLower(v))
		}
	}
	return ids
}

func ownedBy(t *graph.Node, ids []string) bool {
	mb := t.Attrs[graph.AttrManagedBy]
	if mb == "" {
		return false
	}
	for _, o := range strings.Split(strings.ToLower(mb), ",") {
		for _, id := range ids {
			if o == id {
				return true
			}
		}
	}
	return false
}
