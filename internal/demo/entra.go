package demo

import (
	"time"

	"github.com/steward-oss/steward/graph"
)

const entraTenant = "acme.onmicrosoft.com"

var entraActions = actions{
	read: []string{"microsoft.directory/users/read", "microsoft.directory/groups/read",
		"microsoft.graph/sites/read", "microsoft.graph/mail/read"},
	write: []string{"microsoft.directory/users/update", "microsoft.directory/applications/credentials/update",
		"microsoft.graph/mail/send", "microsoft.graph/sites/write", "microsoft.directory/groups/members/update"},
}

// graphPerm is a Microsoft Graph application permission.
type graphPerm struct {
	name     string
	resource int // index into the tenant's resources
	priv     graph.Privilege
}

var graphPerms = []graphPerm{
	{"User.Read.All", 0, graph.PrivRead}, {"Group.Read.All", 0, graph.PrivRead}, {"Directory.Read.All", 0, graph.PrivRead},
	{"Sites.Read.All", 1, graph.PrivRead}, {"Mail.Read", 2, graph.PrivRead},
	{"User.ReadWrite.All", 0, graph.PrivWrite}, {"Group.ReadWrite.All", 0, graph.PrivWrite},
	{"Sites.ReadWrite.All", 1, graph.PrivWrite}, {"Mail.Send", 2, graph.PrivWrite}, {"Files.ReadWrite.All", 1, graph.PrivWrite},
}

// entra builds the tenant: app registrations (oauth_app) and AI agents
// (ai_agent) holding client secrets and certificates, Microsoft Graph
// application permissions as grants, and directory roles.
func (w *world) entra() *graph.Subgraph {
	src := "entra:" + entraTenant
	e := w.newEmitter(src, "MSAL.NET/4.59.0", "msal-go/1.2.0", "Microsoft Graph PowerShell/2.15")
	pfx := src + ":"
	created := Reference.Add(-1200 * day)
	tenant := pfx + "tenant"
	e.accountNode(graph.Node{ID: tenant, Name: entraTenant, Subtype: "tenant",
		Attrs: map[string]string{"tenant_id": e.guid()}})
	// Resource APIs by their well-known application ids.
	res := []string{pfx + "api/00000003-0000-0000-c000-000000000000", pfx + "api/00000003-0000-0ff1-ce00-000000000000",
		pfx + "api/00000002-0000-0ff1-ce00-000000000000"}
	for i, name := range []string{"Microsoft Graph", "SharePoint Online", "Exchange Online"} {
		e.node(graph.Node{ID: res[i], Kind: graph.KindResource, Subtype: "service_principal", Name: name, CreatedAt: created})
	}
	ga := pfx + "directoryRole/62e90394-69f5-4237-9190-012177145e10"
	e.node(graph.Node{ID: ga, Kind: graph.KindRole, Name: "Global Administrator", CreatedAt: created,
		Attrs: map[string]string{"template_id": "62e90394-69f5-4237-9190-012177145e10"}})
	e.grant(ga, tenant, "*", "*", graph.PrivAdmin, "Global Administrator")
	appAdmin := pfx + "directoryRole/9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	e.node(graph.Node{ID: appAdmin, Kind: graph.KindRole, Name: "Application Administrator", CreatedAt: created,
		Attrs: map[string]string{"template_id": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"}})
	e.grant(appAdmin, tenant, "microsoft.directory/applications/allProperties/update", "*", graph.PrivWrite, "Application Administrator")
	readers := pfx + "directoryRole/88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	e.node(graph.Node{ID: readers, Kind: graph.KindRole, Name: "Directory Readers", CreatedAt: created,
		Attrs: map[string]string{"template_id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}})
	e.grant(readers, tenant, "microsoft.directory/users/read", "*", graph.PrivRead, "Directory Readers")

	perm := func(id string, gp graphPerm) {
		e.grant(id, res[gp.resource], gp.name, "*", gp.priv, "appRoleAssignment")
	}
	app := func(kind graph.Kind, name string, p profile, permit func(id string), forceCred int) {
		appID := e.guid()
		id := pfx + "app/" + appID
		n := graph.Node{ID: id, Kind: kind, Name: name, CreatedAt: p.created, LastUsedAt: p.lastUse,
			Attrs: map[string]string{"app_id": appID, "object_id": e.guid(), "sign_in_audience": "AzureADMyOrg"}}
		e.own(&n, p, "owner", "Add application")
		e.node(n)
		permit(id)
		creds := 1
		switch u := e.rng.Float64(); {
		case u < 0.25:
			creds = 2
		case u > 0.88:
			creds = 0
		}
		if forceCred > 0 {
			creds = 1
		}
		for k := 1; k <= creds; k++ {
			sub, label := "client_secret", "secret"
			if e.chance(0.3) {
				sub, label = "certificate", "certificate"
			}
			cid := id + "/" + label + "/" + itoa(k)
			c := graph.Node{ID: cid, Kind: graph.KindCredential, Subtype: sub, Name: name + " " + label + " " + itoa(k),
				Attrs: map[string]string{"key_id": e.guid()}}
			c.CreatedAt, c.LastUsedAt = e.credTimes(p, k == 1)
			if forceCred > 0 {
				c.ExpiresAt = Reference.Add(time.Duration(forceCred) * day)
			} else {
				e.expiry(&c)
			}
			e.node(c)
			e.edge(id, cid, graph.EdgeHasCredential)
		}
		e.used(id, p, entraActions, res[0], res[1], res[2])
	}
	randomPerms := func(p profile) func(id string) {
		return func(id string) {
			if p.admin {
				if e.chance(0.5) {
					e.viaEdge(id, ga, graph.EdgeMemberOf, "directory role assignment", false)
				} else {
					// It can assign itself any directory role.
					e.grant(id, tenant, "RoleManagement.ReadWrite.Directory", "*", graph.PrivAdmin, "appRoleAssignment")
				}
			}
			k := 1 + e.rng.IntN(3)
			first := e.rng.IntN(len(graphPerms))
			for i := range k {
				gp := graphPerms[(first+i)%len(graphPerms)]
				perm(id, gp)
			}
			if !p.admin && e.chance(0.05) {
				e.viaEdge(id, readers, graph.EdgeMemberOf, "directory role assignment", false)
			}
			if !p.admin && e.chance(0.02) {
				e.viaEdge(id, appAdmin, graph.EdgeMemberOf, "directory role assignment", false)
			}
		}
	}

	// The support agent reads and writes mail, files and users across the
	// tenant, and its secret expires in nine days.
	nAI := w.counts[famAI]
	e.reserve(nAI + w.counts[famEntra])
	start := 0
	if nAI > 0 {
		start = 1
		app(graph.KindAIAgent, "ai-support-agent", fixed("ml", 120, 0, false, ownPresent), func(id string) {
			for _, gp := range graphPerms {
				if gp.priv == graph.PrivWrite || gp.name == "Directory.Read.All" || gp.name == "Mail.Read" {
					perm(id, gp)
				}
			}
		}, 9)
	}
	for j := start; j < nAI; j++ {
		name, a := appAt(j - start)
		p := e.draw(a.team, true)
		app(graph.KindAIAgent, name+"-assistant", p, randomPerms(p), 0)
	}
	for j := range w.counts[famEntra] {
		name, a := appAt(j)
		p := e.draw(a.team, true)
		app(graph.KindOAuthApp, name, p, randomPerms(p), 0)
	}
	return e.sg
}
