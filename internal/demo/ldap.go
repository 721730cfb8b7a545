package demo

import (
	"time"

	"strings"

	"github.com/steward-oss/steward/graph"
)

const ldapBase = "dc=acme,dc=example"

var ldapActions = actions{
	read:  []string{"read", "search:read", "bind:read"},
	write: []string{"modify", "add", "password:reset"},
}

// ldap builds the Active Directory domain: service accounts whose
// passwords mostly never expire, and groups where admin comes through
// nesting (IT Operations -> Tier0 Admins -> Domain Admins).
func (w *world) ldap() *graph.Subgraph {
	src := "ldap:" + ldapBase
	e := w.newEmitter(src)
	pfx := src + ":"
	created := Reference.Add(-3000 * day)
	e.accountNode(graph.Node{ID: src, Name: "acme.example", Subtype: "directory",
		Attrs: map[string]string{"base_dn": ldapBase}})
	dnID := func(dn string) string { return pfx + strings.ToLower(dn) }
	var ous []string
	for _, ou := range []string{"People", "Servers", "Service Accounts"} {
		dn := "ou=" + ou + "," + ldapBase
		ous = append(ous, dnID(dn))
		e.node(graph.Node{ID: dnID(dn), Kind: graph.KindResource, Subtype: "organizational_unit", Name: ou, CreatedAt: created,
			Attrs: map[string]string{"dn": dn}})
	}
	group := func(cn, container string) string {
		dn := "cn=" + cn + "," + container + "," + ldapBase
		e.node(graph.Node{ID: dnID(dn), Kind: graph.KindGroup, Name: cn, CreatedAt: created, Attrs: map[string]string{"dn": dn}})
		return dnID(dn)
	}
	domainAdmins := group("Domain Admins", "cn=Users")
	e.grant(domainAdmins, src, "*", "*", graph.PrivAdmin, "Domain Admins")
	tier0 := group("Tier0 Admins", "ou=Groups")
	e.edge(tier0, domainAdmins, graph.EdgeMemberOf)
	itOps := group("IT Operations", "ou=Groups")
	e.edge(itOps, tier0, graph.EdgeMemberOf)
	backupOps := group("Backup Operators", "cn=Builtin")
	e.grant(backupOps, ous[1], "backup", "*", graph.PrivWrite, "Backup Operators")
	svcGroup := group("Service Accounts", "ou=Groups")
	e.grant(svcGroup, ous[0], "read", "*", graph.PrivRead, "Service Accounts")
	helpdesk := group("Helpdesk Password Reset", "ou=Groups")
	e.grant(helpdesk, ous[0], "password:reset", "*", graph.PrivWrite, "delegated control")
	e.reserve(w.counts[famLDAP])

	for j := range w.counts[famLDAP] {
		name, a := appAt(j)
		sam := "svc-" + name
		if len(sam) > 20 {
			// sAMAccountName is at most 20 characters.
			sam = "svc-" + itoa(j)
		}
		p := e.draw(a.team, true)
		dn := "cn=svc-" + name + ",ou=Service Accounts," + ldapBase
		id := dnID(dn)
		n := graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: "svc-" + name, CreatedAt: p.created, LastUsedAt: p.lastUse,
			RotatedAt: e.between(p.created, Reference.Add(-time.Hour)),
			Attrs:     map[string]string{"dn": dn, "sAMAccountName": sam}}
		if e.chance(0.75) {
			n.Attrs[graph.AttrPasswordNever] = "true"
		}
		e.own(&n, p, "", "")
		e.node(n)
		e.edge(id, svcGroup, graph.EdgeMemberOf)
		switch {
		case p.admin && e.chance(0.6):
			e.edge(id, itOps, graph.EdgeMemberOf)
		case p.admin:
			e.edge(id, domainAdmins, graph.EdgeMemberOf)
		case e.chance(0.15):
			e.edge(id, backupOps, graph.EdgeMemberOf)
		case e.chance(0.05):
			e.edge(id, helpdesk, graph.EdgeMemberOf)
		}
		e.used(id, p, ldapActions, append([]string{src}, ous...)...)
	}
	return e.sg
}
