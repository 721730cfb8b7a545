package entra

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

type builder struct {
	tenant string
	source string
	prefix string
	nodes  map[string]*graph.Node
	edges  map[string]bool
	sg     *graph.Subgraph
	spByID map[string]*servicePrincipal
	appIDs map[string]string // appId -> application node id
	objIDs map[string]string // directory object id -> node id
}

func build(tenant string, in *inventory) *graph.Subgraph {
	source := "entra:" + tenant
	b := &builder{tenant: tenant, source: source, prefix: source + ":", nodes: map[string]*graph.Node{},
		edges: map[string]bool{}, sg: &graph.Subgraph{Source: source}, spByID: map[string]*servicePrincipal{},
		appIDs: map[string]string{}, objIDs: map[string]string{}}
	b.node(graph.Node{ID: b.tenantID(), Kind: graph.KindAccount, Name: tenant, Subtype: "tenant"})

	for i := range in.apps {
		b.application(&in.apps[i])
	}
	for i := range in.sps {
		b.servicePrincipal(&in.sps[i])
	}
	roleNames := map[string]string{}
	for _, d := range in.roleDefs {
		id := d.TemplateID
		if id == "" {
			id = d.ID
		}
		roleNames[strings.ToLower(id)] = d.DisplayName
	}
	for _, r := range in.dirRoles {
		roleNames[strings.ToLower(r.RoleTemplateID)] = r.DisplayName
	}
	for _, r := range in.dirRoles {
		role := b.directoryRole(r.RoleTemplateID, roleNames)
		for _, m := range r.Members {
			b.edge(graph.Edge{From: b.principal(m.ID, m.ODataType, &m), To: role, Kind: graph.EdgeMemberOf,
				Attrs: map[string]string{graph.AttrVia: "directoryRoles/" + r.ID + "/members"}})
		}
	}
	for _, a := range in.roleAssignments {
		b.roleAssignment(a, roleNames)
	}
	for _, a := range in.appRoleAssigns {
		b.appRoleAssignment(a)
	}
	defs := map[string]*armDefinition{}
	for i := range in.armDefs {
		defs[guidOf(in.armDefs[i].ID)] = &in.armDefs[i]
	}
	for _, a := range in.armAssignments {
		b.armAssignment(a, defs)
	}

	for _, id := range slices.Sorted(maps.Keys(b.nodes)) {
		b.sg.AddNode(*b.nodes[id])
	}
	return b.sg
}

func (b *builder) tenantID() string { return b.prefix + "tenant" }

func (b *builder) node(n graph.Node) *graph.Node {
	if have, ok := b.nodes[n.ID]; ok {
		return have
	}
	n.Source = b.source
	if n.Attrs == nil {
		n.Attrs = map[string]string{}
	}
	b.nodes[n.ID] = &n
	return &n
}

func (b *builder) edge(e graph.Edge) {
	if k := e.Key(); !b.edges[k] {
		b.edges[k] = true
		b.sg.AddEdge(e)
	}
}

func (b *builder) application(a *application) {
	n := b.node(graph.Node{ID: b.prefix + "app/" + a.AppID, Kind: graph.KindOAuthApp, Name: a.DisplayName,
		CreatedAt: a.CreatedDateTime.Time})
	set(n.Attrs, "app_id", a.AppID)
	set(n.Attrs, "object_id", a.ID)
	set(n.Attrs, "sign_in_audience", a.SignInAudience)
	set(n.Attrs, "publisher_domain", a.PublisherDomain)
	set(n.Attrs, graph.AttrManagedBy, owners(a.Owners))
	n.Tags = tagMap(a.Tags)
	b.appIDs[strings.ToLower(a.AppID)] = n.ID
	if a.ID != "" {
		b.objIDs[strings.ToLower(a.ID)] = n.ID
	}
	b.edge(graph.Edge{From: n.ID, To: b.tenantID(), Kind: graph.EdgeInAccount})
	b.credentials(n.ID, a.PasswordCredentials, a.KeyCredentials)
}

func (b *builder) servicePrincipal(sp *servicePrincipal) {
	b.spByID[strings.ToLower(sp.ID)] = sp
	n := b.spNode(sp.ID)
	delete(n.Attrs, "listed")
	n.Name = sp.DisplayName
	n.CreatedAt = sp.CreatedDateTime.Time
	set(n.Attrs, "app_id", sp.AppID)
	set(n.Attrs, "object_id", sp.ID)
	set(n.Attrs, "service_principal_type", sp.ServicePrincipalType)
	set(n.Attrs, "app_owner_organization_id", sp.AppOwnerOrganizationID)
	set(n.Attrs, graph.AttrManagedBy, owners(sp.Owners))
	if sp.AppOwnerOrganizationID != "" && !strings.EqualFold(sp.AppOwnerOrganizationID, b.tenant) {
		// Another organisation's multi-tenant app, consented here: to
		// this tenant it is an OAuth app it let in, not an identity of
		// its own making.
		n.Attrs["third_party"] = "true"
		n.Kind = graph.KindOAuthApp
		n.Subtype = "third_party_app"
	}
	n.Tags = tagMap(sp.Tags)
	if sp.AccountEnabled != nil && !*sp.AccountEnabled {
		n.Status = graph.StatusDisabled
	}
	if strings.EqualFold(sp.ServicePrincipalType, "ManagedIdentity") {
		n.Kind = graph.KindWorkload
		n.Subtype = "managed_identity"
		n.Attrs["managed_identity_type"] = "system_assigned"
		for _, alt := range sp.AlternativeNames {
			switch {
			case strings.EqualFold(alt, "isExplicit=True"):
				n.Attrs["managed_identity_type"] = "user_assigned"
			case strings.HasPrefix(alt, "/subscriptions/"):
				n.Attrs["azure_resource_id"] = alt
			}
		}
	}
	b.edge(graph.Edge{From: n.ID, To: b.tenantID(), Kind: graph.EdgeInAccount})
	// Whoever holds the app registration's credentials signs in as its
	// service principal in this tenant.
	if app, ok := b.appIDs[strings.ToLower(sp.AppID)]; ok && sp.AppID != "" {
		b.edge(graph.Edge{From: app, To: n.ID, Kind: graph.EdgeCanAssume, Attrs: map[string]string{graph.AttrVia: "appId " + sp.AppID}})
	}
	b.credentials(n.ID, sp.PasswordCredentials, sp.KeyCredentials)
}

func (b *builder) spNode(objectID string) *graph.Node {
	id := b.prefix + "sp/" + strings.ToLower(objectID)
	b.objIDs[strings.ToLower(objectID)] = id
	return b.node(graph.Node{ID: id, Kind: graph.KindServiceAccount, Name: objectID,
		Attrs: map[string]string{"object_id": objectID, "listed": "false"}})
}

func (b *builder) credentials(owner string, passwords, keys []credential) {
	for _, c := range passwords {
		b.credential(owner, "password/", "client_secret", c)
	}
	for _, c := range keys {
		b.credential(owner, "key/", "certificate", c)
	}
}

func (b *builder) credential(owner, kind, subtype string, c credential) {
	if c.KeyID == "" {
		return
	}
	keyID := strings.ToLower(c.KeyID)
	name := secret.Mask(keyID)
	if c.DisplayName != nil && strings.TrimSpace(*c.DisplayName) != "" {
		name = *c.DisplayName
	}
	n := b.node(graph.Node{ID: owner + "/" + kind + keyID, Kind: graph.KindCredential, Subtype: subtype, Name: name,
		CreatedAt: c.StartDateTime.Time, ExpiresAt: c.EndDateTime.Time})
	n.Attrs[graph.AttrKeyIDMasked] = secret.Mask(keyID)
	n.Attrs[graph.AttrFingerprint] = fingerprint(keyID)
	set(n.Attrs, "key_type", c.Type)
	set(n.Attrs, "usage", c.Usage)
	if subtype == "certificate" {
		// customKeyIdentifier of a certificate is its public thumbprint.
		set(n.Attrs, "thumbprint", c.CustomKeyIdentifier)
	}
	b.edge(graph.Edge{From: owner, To: n.ID, Kind: graph.EdgeHasCredential})
}

func (b *builder) directoryRole(templateID string, names map[string]string) string {
	t := strings.ToLower(templateID)
	name := names[t]
	if name == "" {
		name = directoryRoleNames[t]
	}
	if name == "" {
		name = templateID
	}
	id := b.prefix + "directoryRole/" + t
	if _, ok := b.nodes[id]; !ok {
		n := b.node(graph.Node{ID: id, Kind: graph.KindRole, Name: name, Attrs: map[string]string{"template_id": t}})
		b.edge(graph.Edge{From: n.ID, To: b.tenantID(), Kind: graph.EdgeGrants, Action: name, Resource: "/",
			Effect: graph.EffectAllow, Privilege: classifyDirectoryRole(t, name)})
	}
	return id
}

// roleAssignment: a tenant-wide assignment is membership of the role; one
// scoped to an administrative unit or an object is a grant on that scope
// only, so the role's tenant-wide grant does not reach it.
func (b *builder) roleAssignment(a roleAssignment, names map[string]string) {
	var typ string
	if a.Principal != nil {
		typ = a.Principal.ODataType
	}
	principal := b.principal(a.PrincipalID, typ, a.Principal)
	scope := a.DirectoryScopeID
	if scope == "" || scope == "/" {
		role := b.directoryRole(a.RoleDefinitionID, names)
		b.edge(graph.Edge{From: principal, To: role, Kind: graph.EdgeMemberOf,
			Attrs: map[string]string{graph.AttrVia: "roleAssignments/" + a.ID}})
		return
	}
	t := strings.ToLower(a.RoleDefinitionID)
	name := names[t]
	if name == "" {
		name = directoryRoleNames[t]
	}
	if name == "" {
		name = a.RoleDefinitionID
	}
	res := b.node(graph.Node{ID: b.prefix + "scope" + scope, Kind: graph.KindResource, Name: scope,
		Attrs: map[string]string{"directory_scope_id": scope}})
	priv := classifyDirectoryRole(t, name)
	if priv == graph.PrivAdmin {
		priv = graph.PrivWrite // admin of a part is not admin of the tenant
	}
	b.edge(graph.Edge{From: principal, To: res.ID, Kind: graph.EdgeGrants, Action: name, Resource: scope,
		Effect: graph.EffectAllow, Privilege: priv, Attrs: map[string]string{graph.AttrVia: "roleAssignments/" + a.ID}})
}

// principal returns the node of a directory object by id, creating it
// from its @odata.type (or PowerShell principalType) when not yet known.
func (b *builder) principal(id, typ string, obj *directoryObject) string {
	lid := strings.ToLower(id)
	if n, ok := b.objIDs[lid]; ok {
		return n
	}
	t := strings.ToLower(strings.TrimPrefix(typ, "#microsoft.graph."))
	var n *graph.Node
	switch t {
	case "serviceprincipal":
		n = b.spNode(id)
	case "group":
		n = b.node(graph.Node{ID: b.prefix + "group/" + lid, Kind: graph.KindGroup, Name: id})
	case "user":
		n = b.node(graph.Node{ID: b.prefix + "user/" + lid, Kind: graph.KindUser, Name: id})
	default:
		// Not expanded: the export does not say what the object is.
		n = b.node(graph.Node{ID: b.prefix + "object/" + lid, Kind: graph.KindUser, Name: id,
			Attrs: map[string]string{"principal_type": "unknown"}})
	}
	set(n.Attrs, "object_id", id)
	if obj != nil {
		if obj.DisplayName != "" && n.Name == id {
			n.Name = obj.DisplayName
		}
		set(n.Attrs, "user_principal_name", obj.UserPrincipalName)
		set(n.Attrs, graph.AttrEmail, strings.ToLower(obj.Mail))
		set(n.Attrs, "app_id", obj.AppID)
	}
	b.objIDs[lid] = n.ID
	return n.ID
}

func (b *builder) appRoleAssignment(a appRoleAssignment) {
	principal := b.principal(a.PrincipalID, a.PrincipalType, &directoryObject{DisplayName: a.PrincipalDisplayName})
	if a.AppRoleID == defaultAppRoleID {
		return // default access: may sign in, holds no permission
	}
	resource := b.spByID[strings.ToLower(a.ResourceID)]
	onGraph := strings.EqualFold(a.ResourceDisplayName, "Microsoft Graph") || (resource != nil && resource.AppID == msGraphAppID)
	value := ""
	if resource != nil {
		for _, r := range resource.AppRoles {
			if strings.EqualFold(r.ID, a.AppRoleID) {
				value = r.Value
			}
		}
	}
	if value == "" && onGraph {
		value = graphAppRoles[strings.ToLower(a.AppRoleID)]
	}
	if value == "" {
		value = a.AppRoleID
	}
	// Graph permissions act on the whole directory; another API's are
	// permissions on that API.
	to := b.tenantID()
	if !onGraph {
		n := b.node(graph.Node{ID: b.prefix + "api/" + strings.ToLower(a.ResourceID), Kind: graph.KindResource,
			Name: a.ResourceDisplayName, Subtype: "api"})
		n.Attrs["resource_service_principal"] = a.ResourceID
		to = n.ID
	}
	resName := a.ResourceDisplayName
	if resName == "" {
		resName = a.ResourceID
	}
	b.edge(graph.Edge{From: principal, To: to, Kind: graph.EdgeGrants, Action: value, Resource: resName,
		Effect: graph.EffectAllow, Privilege: classifyAppRole(value, onGraph),
		Attrs: map[string]string{graph.AttrVia: "appRoleAssignments/" + a.ID, "app_role_id": a.AppRoleID}})
}

func (b *builder) armAssignment(a armAssignment, defs map[string]*armDefinition) {
	p := a.Properties
	principal := b.principal(p.PrincipalID, p.PrincipalType, nil)
	scope := strings.TrimRight(p.Scope, "/")
	if scope == "" {
		scope = "/"
	}
	accountScope := isAccountScope(scope)
	kind := graph.KindResource
	if accountScope {
		kind = graph.KindAccount
	}
	target := b.node(graph.Node{ID: b.prefix + "arm" + strings.ToLower(scope), Kind: kind, Name: scope,
		Subtype: scopeType(scope)})
	defID := guidOf(p.RoleDefinitionID)
	def := defs[defID]
	name := defID
	if def != nil && def.Properties.RoleName != "" {
		name = def.Properties.RoleName
	}
	e := graph.Edge{From: principal, To: target.ID, Kind: graph.EdgeGrants, Action: name, Resource: scope,
		Effect: graph.EffectAllow, Privilege: classifyARMRole(defID, def, accountScope),
		Conditional: p.Condition != "", Attrs: map[string]string{graph.AttrVia: a.ID, "role_definition_id": defID}}
	if def == nil {
		e.Attrs["role_definition_unresolved"] = "true"
	}
	b.edge(e)
}

// isAccountScope: the root, a management group or a subscription.
func isAccountScope(scope string) bool {
	return scopeType(scope) != "resource"
}

func scopeType(scope string) string {
	parts := strings.Split(strings.Trim(strings.ToLower(scope), "/"), "/")
	switch {
	case scope == "/":
		return "root"
	case len(parts) == 2 && parts[0] == "subscriptions":
		return "subscription"
	case len(parts) == 4 && parts[0] == "providers" && parts[1] == "microsoft.management" && parts[2] == "managementgroups":
		return "management_group"
	}
	return "resource"
}

func owners(objs []directoryObject) string {
	var out []string
	for _, o := range objs {
		switch {
		case o.UserPrincipalName != "":
			out = append(out, strings.ToLower(o.UserPrincipalName))
		case o.Mail != "":
			out = append(out, strings.ToLower(o.Mail))
		case o.ID != "":
			out = append(out, o.ID)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func tagMap(tags []string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v, _ := strings.Cut(t, ":")
		out[k] = v
	}
	return out
}

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func fingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
