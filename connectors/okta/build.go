package okta

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Subtypes this connector sets.
const (
	SubtypeServiceApp = "service_app" // OAuth client-credentials app: a machine identity
	SubtypeAPIToken   = "api_token"
	AttrServiceHint   = "service_hint" // why a user was classed as a service account
)

// serviceApp reports an OIDC app that authenticates as itself
// (client_credentials), which is how Okta models machine clients.
func serviceApp(a app) bool {
	return a.SignOnMode == "OPENID_CONNECT" && slices.Contains(a.Settings.OAuthClient.GrantTypes, "client_credentials")
}

// serviceUserTypes are profile.userType values orgs use for non-human
// accounts (compared lower-case).
var serviceUserTypes = map[string]bool{"service": true, "service_account": true, "serviceaccount": true,
	"service account": true, "svc": true, "system": true, "bot": true, "machine": true, "api": true}

// serviceLoginRE matches the login naming conventions for service users.
var serviceLoginRE = regexp.MustCompile(`(?i)^(svc|service|srv|sa|bot)[-_.]`)

// serviceHint says why u is a service account, or "" for a person.
func serviceHint(u user) string {
	if t := str(u.Profile["userType"]); serviceUserTypes[strings.ToLower(t)] {
		return "profile.userType=" + t
	}
	if l := str(u.Profile["login"]); serviceLoginRE.MatchString(l) {
		return "login " + l
	}
	return ""
}

// rolePrivilege classifies Okta's standard admin roles. Only Super Admin
// can do everything, including granting admin roles.
var rolePrivilege = map[string]graph.Privilege{
	"SUPER_ADMIN":                 graph.PrivAdmin,
	"ORG_ADMIN":                   graph.PrivWrite,
	"APP_ADMIN":                   graph.PrivWrite,
	"USER_ADMIN":                  graph.PrivWrite,
	"GROUP_MEMBERSHIP_ADMIN":      graph.PrivWrite,
	"HELP_DESK_ADMIN":             graph.PrivWrite,
	"API_ACCESS_MANAGEMENT_ADMIN": graph.PrivWrite,
	"MOBILE_ADMIN":                graph.PrivWrite,
	"ACCESS_CERTIFICATIONS_ADMIN": graph.PrivWrite,
	"ACCESS_REQUESTS_ADMIN":       graph.PrivWrite,
	"CUSTOM":                      graph.PrivWrite,
	"READ_ONLY_ADMIN":             graph.PrivRead,
	"REPORT_ADMIN":                graph.PrivRead,
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

type builder struct {
	src   string
	sg    *graph.Subgraph
	nodes map[string]bool
	edges map[string]bool
}

func (b *builder) node(n graph.Node) {
	if b.nodes[n.ID] {
		return
	}
	b.nodes[n.ID] = true
	b.sg.AddNode(n)
	if n.Kind != graph.KindAccount && n.Kind != graph.KindRole {
		b.edge(graph.Edge{From: n.ID, To: b.src, Kind: graph.EdgeInAccount})
	}
}

func (b *builder) edge(e graph.Edge) {
	if k := e.Key(); !b.edges[k] {
		b.edges[k] = true
		b.sg.AddEdge(e)
	}
}

func build(org string, ex *export) (*graph.Subgraph, error) {
	src := "okta:" + org
	b := &builder{src: src, sg: &graph.Subgraph{Source: src}, nodes: map[string]bool{}, edges: map[string]bool{}}
	b.node(graph.Node{ID: src, Kind: graph.KindAccount, Subtype: "okta_org", Name: org})

	userID := func(id string) string { return src + ":user/" + id }
	groupID := func(id string) string { return src + ":group/" + id }

	for i, a := range ex.apps {
		if a.ID == "" {
			return nil, fmt.Errorf("okta: apps[%d]: id empty", i)
		}
		id := src + ":app/" + a.ID
		n := graph.Node{ID: id, Kind: graph.KindOAuthApp, Name: a.Label, Status: status(a.Status),
			CreatedAt: a.Created.UTC(), Tags: stringMap(a.Profile), Attrs: map[string]string{
				"app_name": a.Name, "sign_on_mode": a.SignOnMode, "okta_status": a.Status}}
		if n.Name == "" {
			n.Name = a.Name
		}
		switch {
		case serviceApp(a):
			n.Subtype = SubtypeServiceApp
		case a.SignOnMode != "":
			n.Subtype = strings.ToLower(a.SignOnMode)
		}
		set(n.Attrs, "client_id", a.Credentials.OAuthClient.ClientID)
		set(n.Attrs, "token_endpoint_auth_method", a.Credentials.OAuthClient.AuthMethod)
		set(n.Attrs, "application_type", a.Settings.OAuthClient.ApplicationType)
		set(n.Attrs, "grant_types", strings.Join(a.Settings.OAuthClient.GrantTypes, ","))
		// Okta has no owner field on apps; admins write one in the admin
		// notes, so an e-mail there is the source's own owner hint.
		if m := emailRE.FindString(a.Settings.Notes.Admin); m != "" {
			n.Attrs[graph.AttrManagedBy] = strings.ToLower(m)
		}
		b.node(n)
		for _, g := range ex.grants[a.ID] {
			if g.Status != "" && g.Status != "ACTIVE" {
				continue
			}
			b.edge(graph.Edge{From: id, To: src, Kind: graph.EdgeGrants, Action: g.ScopeID, Resource: "*",
				Effect: graph.EffectAllow, Privilege: scopePrivilege(g.ScopeID), Attrs: map[string]string{graph.AttrVia: "OAuth scope grant " + g.ID}})
		}
	}

	addUser := func(u user) {
		hint := serviceHint(u)
		kind := graph.KindUser
		if hint != "" {
			kind = graph.KindServiceAccount
		}
		login := str(u.Profile["login"])
		n := graph.Node{ID: userID(u.ID), Kind: kind, Name: login, Status: status(u.Status),
			CreatedAt: u.Created.UTC(), LastUsedAt: u.LastLogin.UTC(), RotatedAt: u.PasswordChanged.UTC(),
			Attrs: map[string]string{"login": login, "okta_status": u.Status}}
		if n.Name == "" {
			n.Name = u.ID
		}
		set(n.Attrs, AttrServiceHint, hint)
		set(n.Attrs, "user_type", str(u.Profile["userType"]))
		if e := str(u.Profile["email"]); e != "" {
			n.Attrs[graph.AttrEmail] = strings.ToLower(e)
		}
		// A service user's manager is its owner hint; a person's manager
		// is not an owner of the person.
		if kind == graph.KindServiceAccount {
			for _, k := range []string{"managerEmail", "manager", "owner"} {
				if m := emailRE.FindString(str(u.Profile[k])); m != "" {
					n.Attrs[graph.AttrManagedBy] = strings.ToLower(m)
					break
				}
			}
		}
		b.node(n)
	}
	for i, u := range ex.users {
		if u.ID == "" {
			return nil, fmt.Errorf("okta: users[%d]: id empty", i)
		}
		addUser(u)
	}
	for i, g := range ex.groups {
		if g.ID == "" {
			return nil, fmt.Errorf("okta: groups[%d]: id empty", i)
		}
		n := graph.Node{ID: groupID(g.ID), Kind: graph.KindGroup, Name: g.Profile.Name, CreatedAt: g.Created.UTC(),
			Attrs: map[string]string{"group_type": g.Type}}
		set(n.Attrs, "description", g.Profile.Description)
		b.node(n)
		for _, m := range ex.members[g.ID] {
			addUser(m)
			b.edge(graph.Edge{From: userID(m.ID), To: groupID(g.ID), Kind: graph.EdgeMemberOf})
		}
	}
	for i, t := range ex.tokens {
		if t.ID == "" || t.UserID == "" {
			return nil, fmt.Errorf("okta: api-tokens[%d]: id or userId empty", i)
		}
		id := src + ":api_token/" + t.ID
		n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: SubtypeAPIToken, Name: t.Name,
			CreatedAt: t.Created.UTC(), ExpiresAt: t.ExpiresAt.UTC(), Attrs: map[string]string{
				"client_name": t.ClientName, "token_window": t.TokenWindow, "network_connection": t.Network.Connection,
				"user_id": t.UserID}}
		set(n.Attrs, "network_include", strings.Join(t.Network.Include, ","))
		set(n.Attrs, "network_exclude", strings.Join(t.Network.Exclude, ","))
		b.node(n)
		if !b.nodes[userID(t.UserID)] {
			// The token's user was not in the users export; keep the holder
			// as a bare node so the credential is not orphaned by omission.
			b.node(graph.Node{ID: userID(t.UserID), Kind: graph.KindUser, Name: t.UserID})
		}
		b.edge(graph.Edge{From: userID(t.UserID), To: id, Kind: graph.EdgeHasCredential})
	}
	roleEdges := func(from string, rs []role, where string) error {
		for i, r := range rs {
			if r.Type == "" {
				return fmt.Errorf("okta: %s[%d]: type empty", where, i)
			}
			if r.Status != "" && r.Status != "ACTIVE" {
				continue
			}
			rid := src + ":role/" + r.Type
			name := r.Label
			if r.Type == "CUSTOM" && r.CustomRole != "" {
				rid = src + ":role/custom/" + r.CustomRole
			}
			if name == "" {
				name = r.Type
			}
			priv, known := rolePrivilege[r.Type]
			if !known {
				priv = graph.PrivWrite
			}
			attrs := map[string]string{"role_type": r.Type}
			set(attrs, "resource_set", r.ResourceSet)
			b.node(graph.Node{ID: rid, Kind: graph.KindRole, Name: name, Attrs: attrs})
			b.edge(graph.Edge{From: rid, To: src, Kind: graph.EdgeGrants, Action: r.Type, Resource: "*",
				Effect: graph.EffectAllow, Privilege: priv, Attrs: map[string]string{graph.AttrVia: "admin role " + r.Type}})
			b.edge(graph.Edge{From: from, To: rid, Kind: graph.EdgeMemberOf, Attrs: map[string]string{"assignment": r.AssignmentType, "assignment_id": r.ID}})
		}
		return nil
	}
	for _, uid := range slices.Sorted(maps.Keys(ex.userRoles)) {
		if err := roleEdges(userID(uid), ex.userRoles[uid], "users/"+uid+"/roles"); err != nil {
			return nil, err
		}
	}
	for _, gid := range slices.Sorted(maps.Keys(ex.groupRoles)) {
		if err := roleEdges(groupID(gid), ex.groupRoles[gid], "groups/"+gid+"/roles"); err != nil {
			return nil, err
		}
	}
	if err := b.sg.Validate(); err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	return b.sg, nil
}

// scopePrivilege classifies an Okta API scope granted to a service app:
// okta.*.read is read, okta.*.manage and anything else write.
func scopePrivilege(scope string) graph.Privilege {
	if strings.HasSuffix(scope, ".read") {
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// status maps Okta lifecycle states: only suspended, deprovisioned and
// inactive objects cannot authenticate.
func status(s string) string {
	switch s {
	case "SUSPENDED", "DEPROVISIONED", "INACTIVE", "DELETED":
		return graph.StatusDisabled
	}
	return graph.StatusActive
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// stringMap keeps the string values of an app profile as tags, verbatim.
func stringMap(m map[string]any) map[string]string {
	var out map[string]string
	for k, v := range m {
		if s, ok := v.(string); ok && s != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = s
		}
	}
	return out
}

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}
