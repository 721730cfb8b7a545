package github

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v82/github"

	"github.com/steward-oss/steward/graph"
)

// Subtypes and attribute keys this connector adds.
const (
	SubtypeGitHubApp     = "github_app"
	SubtypeDeployKey     = "deploy_key"
	SubtypePAT           = "pat"
	SubtypeSSHKey        = "ssh_key"
	SubtypeOAuthToken    = "oauth_token"
	SubtypeAppToken      = "app_token"
	SubtypeRepo          = "repo"
	SubtypeActionsSecret = "secret"

	AttrSSHFingerprint = "ssh_fingerprint" // "SHA256:<base64>", as ssh-keygen -l prints it
	AttrLevel          = "level"           // on grants: the permission level GitHub reports (read, write, admin)
)

// builder collects nodes by id so an account seen by two endpoints (a
// PAT owner who is also an outside collaborator) is one node.
type builder struct {
	src   string
	sg    *graph.Subgraph
	nodes map[string]int
	// installs maps an app node id to the installation it stands for, so
	// that a second installation with the same id gets its own node.
	installs map[string]int64
}

func (b *builder) node(n graph.Node) {
	if i, ok := b.nodes[n.ID]; ok {
		old := &b.sg.Nodes[i]
		for k, v := range n.Attrs {
			if old.Attrs == nil {
				old.Attrs = map[string]string{}
			}
			old.Attrs[k] = v
		}
		if n.Kind == graph.KindBot {
			old.Kind = graph.KindBot
		}
		return
	}
	b.nodes[n.ID] = len(b.sg.Nodes)
	b.sg.AddNode(n)
	if n.Kind != graph.KindAccount {
		b.sg.AddEdge(graph.Edge{From: n.ID, To: b.src, Kind: graph.EdgeInAccount})
	}
}

// userID is the node id of a GitHub account login in this org's subgraph.
func (b *builder) userID(login string) string { return b.src + ":user/" + login }

func (b *builder) user(u *gh.User, attrs map[string]string) string {
	login := u.GetLogin()
	kind := graph.KindUser
	if u.GetType() == "Bot" {
		kind = graph.KindBot
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["login"] = login
	if u.GetID() != 0 {
		attrs["github_id"] = strconv.FormatInt(u.GetID(), 10)
	}
	if u.GetType() != "" {
		attrs["type"] = u.GetType()
	}
	if u.GetSiteAdmin() {
		attrs["site_admin"] = "true"
	}
	if e := u.GetEmail(); e != "" {
		attrs[graph.AttrEmail] = strings.ToLower(e)
	}
	id := b.userID(login)
	b.node(graph.Node{ID: id, Kind: kind, Name: login, Attrs: attrs})
	return id
}

// Build turns an export into the org's subgraph, source "github:<org>".
func Build(org string, ex *Export) (*graph.Subgraph, error) {
	if org == "" {
		return nil, fmt.Errorf("github: org is empty")
	}
	src := "github:" + org
	b := &builder{src: src, sg: &graph.Subgraph{Source: src}, nodes: map[string]int{}}

	acct := graph.Node{ID: src, Kind: graph.KindAccount, Subtype: "github_org", Name: org, Attrs: map[string]string{}}
	if o := ex.Org; o != nil {
		if o.GetLogin() != "" && !strings.EqualFold(o.GetLogin(), org) {
			return nil, fmt.Errorf("github: org.json is for %q, not %q", o.GetLogin(), org)
		}
		acct.CreatedAt = ts(o.CreatedAt)
		if o.TwoFactorRequirementEnabled != nil {
			acct.Attrs["two_factor_requirement_enabled"] = strconv.FormatBool(o.GetTwoFactorRequirementEnabled())
		}
		if v := o.GetDefaultRepoPermission(); v != "" {
			acct.Attrs["default_repository_permission"] = v
		}
		if p := o.GetPlan().GetName(); p != "" {
			acct.Attrs["plan"] = p
		}
	}
	if len(ex.Skipped) > 0 {
		acct.Attrs["skipped_endpoints"] = strings.Join(ex.Skipped, ",")
	}
	b.node(acct)

	for _, r := range ex.Repos {
		b.repo(r.GetName(), r)
	}
	for _, in := range ex.Installations {
		if err := b.installation(in); err != nil {
			return nil, err
		}
	}
	for _, repo := range slices.Sorted(maps.Keys(ex.Keys)) {
		for _, k := range ex.Keys[repo] {
			if err := b.deployKey(repo, k); err != nil {
				return nil, err
			}
		}
	}
	for i, p := range ex.PATs {
		if err := b.pat(i, p); err != nil {
			return nil, err
		}
	}
	for i, c := range ex.CredAuths {
		if err := b.credAuth(i, c); err != nil {
			return nil, err
		}
	}
	for _, s := range ex.Secrets {
		id := src + ":actions_secret/" + s.Name
		b.node(graph.Node{ID: id, Kind: graph.KindResource, Subtype: SubtypeActionsSecret, Name: s.Name,
			CreatedAt: s.CreatedAt.UTC(), RotatedAt: s.UpdatedAt.UTC(),
			Attrs: map[string]string{"visibility": s.Visibility, "store": "actions"}})
	}
	for _, u := range ex.Outside {
		b.user(u, map[string]string{"outside_collaborator": "true"})
	}
	if err := b.sg.Validate(); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return b.sg, nil
}

// repo emits the repository resource "github:<org>:repo/<name>". The AWS
// connector's GitHub OIDC workloads ("github:oidc:repo:ORG/REPO:...") join
// to it by ORG/REPO; see README.md.
func (b *builder) repo(name string, r *gh.Repository) string {
	id := b.src + ":repo/" + name
	n := graph.Node{ID: id, Kind: graph.KindResource, Subtype: SubtypeRepo, Name: name, Attrs: map[string]string{}}
	if r != nil {
		n.CreatedAt = ts(r.CreatedAt)
		if v := r.GetFullName(); v != "" {
			n.Attrs["full_name"] = v
		}
		if v := r.GetVisibility(); v != "" {
			n.Attrs["visibility"] = v
		} else if r.Private != nil {
			n.Attrs["visibility"] = map[bool]string{true: "private", false: "public"}[r.GetPrivate()]
		}
		if r.GetArchived() {
			n.Attrs["archived"] = "true"
		}
	}
	b.node(n)
	return id
}

func (b *builder) installation(in *gh.Installation) error {
	name := in.GetAppSlug()
	if name == "" {
		if in.GetAppID() == 0 {
			return fmt.Errorf("github: installation %d has neither app_slug nor app_id", in.GetID())
		}
		name = "app-" + strconv.FormatInt(in.GetAppID(), 10)
	}
	id := b.src + ":app/" + name
	if b.installs == nil {
		b.installs = map[string]int64{}
	}
	if prev, ok := b.installs[id]; ok && prev != in.GetID() {
		// Another installation already has this name (no slug, same
		// app): the installation id tells them apart.
		id += "/installations/" + strconv.FormatInt(in.GetID(), 10)
	}
	b.installs[id] = in.GetID()
	n := graph.Node{ID: id, Kind: graph.KindOAuthApp, Subtype: SubtypeGitHubApp, Name: name,
		CreatedAt: ts(in.CreatedAt), Attrs: map[string]string{
			"app_id":               strconv.FormatInt(in.GetAppID(), 10),
			"installation_id":      strconv.FormatInt(in.GetID(), 10),
			"repository_selection": in.GetRepositorySelection(),
			"target_type":          in.GetTargetType(),
		}}
	if in.SuspendedAt != nil {
		n.Status = graph.StatusDisabled
		n.Attrs["suspended_at"] = ts(in.SuspendedAt).Format(time.RFC3339)
		if s := in.GetSuspendedBy().GetLogin(); s != "" {
			n.Attrs["suspended_by"] = s
		}
	}
	if v := in.GetClientID(); v != "" {
		n.Attrs["client_id"] = v
	}
	b.node(n)
	perms, err := permMap(in.Permissions)
	if err != nil {
		return fmt.Errorf("github: installation %d permissions: %w", in.GetID(), err)
	}
	allRepos := in.GetRepositorySelection() == "all"
	scope := "repos"
	if allRepos {
		scope = "all"
	}
	b.grants(id, perms, scope, allRepos, "installation")
	return nil
}

// grants emits one grants edge per permission, on the org account.
func (b *builder) grants(from string, perms map[string]string, scope string, allRepos bool, via string) {
	for _, p := range slices.Sorted(maps.Keys(perms)) {
		level := perms[p]
		b.sg.AddEdge(graph.Edge{From: from, To: b.src, Kind: graph.EdgeGrants, Action: p, Resource: scope,
			Effect: graph.EffectAllow, Privilege: permPrivilege(p, level, allRepos),
			Attrs: map[string]string{AttrLevel: level, graph.AttrVia: via}})
	}
}

func (b *builder) deployKey(repo string, k *gh.Key) error {
	if k.GetID() == 0 {
		return fmt.Errorf("github: keys/%s.json: deploy key without id", repo)
	}
	repoID := b.repo(repo, nil)
	id := b.src + ":deploy_key/" + strconv.FormatInt(k.GetID(), 10)
	n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: SubtypeDeployKey, Name: k.GetTitle(),
		CreatedAt: ts(k.CreatedAt), LastUsedAt: ts(k.LastUsed), Attrs: map[string]string{
			"repo":      repo,
			"read_only": strconv.FormatBool(k.GetReadOnly()),
			"verified":  strconv.FormatBool(k.GetVerified()),
		}}
	if k.Key != nil {
		hexfp, sshfp, err := SSHFingerprint(k.GetKey())
		if err != nil {
			return fmt.Errorf("github: keys/%s.json: deploy key %d: %w", repo, k.GetID(), err)
		}
		n.Attrs[graph.AttrFingerprint] = hexfp
		n.Attrs[AttrSSHFingerprint] = sshfp
	}
	if a := k.GetAddedBy(); a != "" {
		n.Attrs["added_by"] = a
		n.Attrs[graph.AttrInstalledBy] = a
		b.user(&gh.User{Login: gh.Ptr(a)}, nil)
		b.sg.AddEdge(graph.Edge{From: id, To: b.userID(a), Kind: graph.EdgeCreatedBy, Attrs: map[string]string{"event": "deploy key added"}})
	}
	b.node(n)
	priv, action := graph.PrivWrite, "contents:write"
	if k.GetReadOnly() {
		priv, action = graph.PrivRead, "contents:read"
	}
	// A deploy key authenticates by itself, so the access hangs off the key.
	b.sg.AddEdge(graph.Edge{From: id, To: repoID, Kind: graph.EdgeGrants, Action: action, Resource: repo,
		Effect: graph.EffectAllow, Privilege: priv, Attrs: map[string]string{graph.AttrVia: "deploy key"}})
	return nil
}

func (b *builder) pat(i int, p *gh.PersonalAccessToken) error {
	tid := p.GetTokenID()
	if tid == 0 {
		tid = p.GetID()
	}
	if tid == 0 || p.GetOwner().GetLogin() == "" {
		return fmt.Errorf("github: %s: [%d]: token without token_id/id or owner.login", filePATs, i)
	}
	id := b.src + ":pat/" + strconv.FormatInt(tid, 10)
	n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: SubtypePAT, Name: p.GetTokenName(),
		ExpiresAt: ts(p.TokenExpiresAt), LastUsedAt: ts(p.TokenLastUsedAt), Attrs: map[string]string{
			"pat_kind":             "fine_grained",
			"grant_id":             strconv.FormatInt(p.GetID(), 10),
			"repository_selection": p.GetRepositorySelection(),
			"owner":                p.GetOwner().GetLogin(),
		}}
	if n.Name == "" {
		n.Name = "fine-grained PAT " + strconv.FormatInt(tid, 10)
	}
	if p.AccessGrantedAt != nil {
		n.Attrs["access_granted_at"] = ts(p.AccessGrantedAt).Format(time.RFC3339)
	}
	if p.GetTokenExpired() {
		n.Status = graph.StatusDisabled
		n.Attrs["token_expired"] = "true"
	}
	b.node(n)
	holder := b.user(p.GetOwner(), nil)
	b.sg.AddEdge(graph.Edge{From: holder, To: id, Kind: graph.EdgeHasCredential})
	if perms := p.GetPermissions(); perms != nil {
		sel := p.GetRepositorySelection()
		if sel == "" {
			sel = "subset"
		}
		b.grants(id, perms.Org, "org", true, "fine-grained PAT organization permission")
		if sel != "none" {
			b.grants(id, perms.Repo, sel, sel == "all", "fine-grained PAT repository permission")
		}
		b.grants(id, perms.Other, "other", false, "fine-grained PAT permission")
	}
	return nil
}

// credentialTypes maps the credential_type GitHub reports for SAML SSO
// authorizations to a subtype.
var credentialTypes = map[string]string{
	"personal access token": SubtypePAT,
	"ssh key":               SubtypeSSHKey,
	"oauth app token":       SubtypeOAuthToken,
	"github app token":      SubtypeAppToken,
}

func (b *builder) credAuth(i int, c *gh.CredentialAuthorization) error {
	if c.GetCredentialID() == 0 || c.GetLogin() == "" {
		return fmt.Errorf("github: %s: [%d]: authorization without credential_id or login", fileCredAuths, i)
	}
	sub, ok := credentialTypes[strings.ToLower(c.GetCredentialType())]
	if !ok {
		sub = strings.ReplaceAll(strings.ToLower(c.GetCredentialType()), " ", "_")
	}
	id := b.src + ":credential/" + strconv.FormatInt(c.GetCredentialID(), 10)
	n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: sub,
		LastUsedAt: ts(c.CredentialAccessedAt), ExpiresAt: ts(c.AuthorizedCredentialExpiresAt),
		Attrs: map[string]string{"credential_type": c.GetCredentialType(), "owner": c.GetLogin()}}
	if sub == SubtypePAT {
		n.Attrs["pat_kind"] = "classic"
	}
	if c.CredentialAuthorizedAt != nil {
		n.Attrs["sso_authorized_at"] = ts(c.CredentialAuthorizedAt).Format(time.RFC3339)
	}
	// token_last_eight is part of the secret; keep only the last four,
	// the same masking every other credential id gets.
	if l8 := c.GetTokenLastEight(); len(l8) >= 4 {
		n.Attrs[graph.AttrKeyIDMasked] = "…" + l8[len(l8)-4:]
	}
	if fp := c.GetFingerprint(); fp != "" {
		n.Attrs[AttrSSHFingerprint] = fp
	}
	switch {
	case c.GetAuthorizedCredentialNote() != "":
		n.Name = c.GetAuthorizedCredentialNote()
	case c.GetAuthorizedCredentialTitle() != "":
		n.Name = c.GetAuthorizedCredentialTitle()
	default:
		n.Name = c.GetCredentialType() + " " + strconv.FormatInt(c.GetCredentialID(), 10)
	}
	b.node(n)
	holder := b.user(&gh.User{Login: c.Login}, nil)
	b.sg.AddEdge(graph.Edge{From: holder, To: id, Kind: graph.EdgeHasCredential})
	for _, s := range c.Scopes {
		b.sg.AddEdge(graph.Edge{From: id, To: b.src, Kind: graph.EdgeGrants, Action: s, Resource: "all",
			Effect: graph.EffectAllow, Privilege: scopePrivilege(s), Attrs: map[string]string{graph.AttrVia: "OAuth scope"}})
	}
	return nil
}

// permMap flattens go-github's permission struct to name -> level, so
// permissions added to the API later still come through by name.
func permMap(p *gh.InstallationPermissions) (map[string]string, error) {
	out := map[string]string{}
	if p == nil {
		return out, nil
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// permPrivilege classifies one GitHub App / fine-grained PAT permission.
//
// Admin means control of the whole org: organization_administration write
// (org settings, including who is owner), members write (can set any
// member's role to owner, so it escalates to everything), and
// administration write on every repository (settings, collaborators,
// deletion of all repos). Any other write or admin level is write; read
// is read.
func permPrivilege(name, level string, allRepos bool) graph.Privilege {
	switch level {
	case "read":
		return graph.PrivRead
	case "write", "admin":
	default:
		return graph.PrivNone
	}
	switch name {
	case "organization_administration", "members":
		return graph.PrivAdmin
	case "administration":
		if allRepos {
			return graph.PrivAdmin
		}
	}
	return graph.PrivWrite
}

// scopePrivilege classifies a classic OAuth scope: admin:org and
// admin:enterprise control the org; read:* and the user-profile read
// scopes are read; every other scope changes something.
func scopePrivilege(s string) graph.Privilege {
	switch {
	case s == "admin:org" || s == "admin:enterprise":
		return graph.PrivAdmin
	case strings.HasPrefix(s, "read:") || s == "user:email":
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// SSHFingerprint returns the hex SHA-256 of an OpenSSH public key's wire
// blob (the fingerprint the secret scanners compute from a leaked private
// key, so leaks and deploy keys join) and the ssh-keygen form
// "SHA256:<base64>".
func SSHFingerprint(authorizedKey string) (hexfp, sshfp string, err error) {
	f := strings.Fields(authorizedKey)
	if len(f) < 2 {
		return "", "", fmt.Errorf("public key is not \"<type> <base64>\"")
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return "", "", fmt.Errorf("public key base64: %w", err)
	}
	sum := sha256.Sum256(blob)
	return hex.EncodeToString(sum[:]), "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

func ts(t *gh.Timestamp) time.Time {
	if t == nil || t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
