package demo

import (
	"github.com/steward-oss/steward/graph"
)

const oktaOrg = "acme.okta.com"

var oktaActions = actions{
	read:  []string{"okta.users.read", "okta.groups.read", "okta.logs.read", "okta.apps.read"},
	write: []string{"okta.users.manage", "okta.groups.manage", "okta.apps.manage"},
}

// okta builds the org: service apps (OAuth client-credentials apps with
// granted scopes and a client secret) and service users holding API
// tokens, which act with their user's admin role.
func (w *world) okta() *graph.Subgraph {
	src := "okta:" + oktaOrg
	e := w.newEmitter(src, "okta-sdk-golang/2.20.0", "okta-sdk-python/2.9.5", "Okta-Terraform/4.8.0")
	pfx := src + ":"
	created := Reference.Add(-1400 * day)
	e.accountNode(graph.Node{ID: src, Name: oktaOrg, Subtype: "org"})
	res := map[string]string{}
	var resIDs []string
	for _, r := range []string{"users", "groups", "apps", "logs"} {
		res[r] = pfx + "resource/" + r
		resIDs = append(resIDs, res[r])
		e.node(graph.Node{ID: res[r], Kind: graph.KindResource, Subtype: "api", Name: r, CreatedAt: created})
	}
	role := func(typ, name string) string {
		id := pfx + "role/" + typ
		e.node(graph.Node{ID: id, Kind: graph.KindRole, Name: name, CreatedAt: created, Attrs: map[string]string{"type": typ}})
		return id
	}
	super := role("SUPER_ADMIN", "Super Administrator")
	e.grant(super, src, "*", "*", graph.PrivAdmin, "Super Administrator")
	ro := role("READ_ONLY_ADMIN", "Read-only Administrator")
	for _, r := range []string{"users", "groups", "apps", "logs"} {
		e.grant(ro, res[r], "okta."+r+".read", "*", graph.PrivRead, "Read-only Administrator")
	}
	groupAdmin := role("GROUP_MEMBERSHIP_ADMIN", "Group Membership Administrator")
	e.grant(groupAdmin, res["groups"], "okta.groups.manage", "*", graph.PrivWrite, "Group Membership Administrator")
	userAdmin := role("USER_ADMIN", "Group Administrator")
	e.grant(userAdmin, res["users"], "okta.users.manage", "*", graph.PrivWrite, "Group Administrator")

	scopes := []struct {
		scope, res string
		priv       graph.Privilege
	}{
		{"okta.users.read", "users", graph.PrivRead}, {"okta.groups.read", "groups", graph.PrivRead},
		{"okta.logs.read", "logs", graph.PrivRead}, {"okta.users.manage", "users", graph.PrivWrite},
		{"okta.groups.manage", "groups", graph.PrivWrite}, {"okta.apps.manage", "apps", graph.PrivWrite},
	}
	e.reserve(w.counts[famOktaApp] + w.counts[famOktaSvc])
	for j := range w.counts[famOktaApp] {
		name, a := appAt(j)
		p := e.draw(a.team, true)
		clientID := e.token("0oa", 17, alnum)
		id := pfx + "app/" + clientID
		n := graph.Node{ID: id, Kind: graph.KindOAuthApp, Subtype: "service", Name: name + " (service)",
			CreatedAt: p.created, LastUsedAt: p.lastUse, Attrs: map[string]string{"client_id": clientID, "grant_type": "client_credentials"}}
		e.own(&n, p, "", "")
		e.node(n)
		if p.admin {
			e.viaEdge(id, super, graph.EdgeMemberOf, "admin role assignment", false)
		}
		first := e.rng.IntN(len(scopes))
		for i := range 1 + e.rng.IntN(3) {
			s := scopes[(first+i)%len(scopes)]
			e.grant(id, res[s.res], s.scope, "*", s.priv, "granted scope")
		}
		cid := id + "/secret/1"
		c := graph.Node{ID: cid, Kind: graph.KindCredential, Subtype: "client_secret", Name: name + " client secret"}
		c.CreatedAt, c.LastUsedAt = e.credTimes(p, true)
		e.node(c)
		e.edge(id, cid, graph.EdgeHasCredential)
		e.used(id, p, oktaActions, resIDs...)
	}
	for j := range w.counts[famOktaSvc] {
		name, a := appAt(j)
		p := e.draw(a.team, true)
		login := "svc-" + name + "@acme.com"
		id := pfx + "user/" + e.token("00u", 17, alnum)
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: login, CreatedAt: p.created, LastUsedAt: p.lastUse,
			Attrs: map[string]string{"login": login, "user_type": "service"}}
		e.own(&n, p, "", "")
		e.node(n)
		switch {
		case p.admin:
			e.viaEdge(id, super, graph.EdgeMemberOf, "admin role assignment", false)
		case e.chance(0.4):
			e.viaEdge(id, ro, graph.EdgeMemberOf, "admin role assignment", false)
		case e.chance(0.5):
			e.viaEdge(id, groupAdmin, graph.EdgeMemberOf, "admin role assignment", false)
		default:
			e.viaEdge(id, userAdmin, graph.EdgeMemberOf, "admin role assignment", false)
		}
		cid := id + "/api_token/1"
		c := graph.Node{ID: cid, Kind: graph.KindCredential, Subtype: "api_token", Name: name + " API token",
			Attrs: map[string]string{graph.AttrTokenPrefix: "00"}}
		c.CreatedAt, c.LastUsedAt = e.credTimes(p, true)
		e.secretCred(&c, e.token("00", 40, alnum+"-_"), "okta-access-token", false)
		e.node(c)
		e.edge(id, cid, graph.EdgeHasCredential)
		e.used(cid, p, oktaActions, resIDs...)
	}
	return e.sg
}
