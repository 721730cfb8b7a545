package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// builder accumulates one project's subgraph, merging the same node seen in
// several files (an account listed and fetched, a member of many bindings).
type builder struct {
	source  string
	prefix  string
	log     *slog.Logger
	nodes   map[string]*graph.Node
	edges   map[string]int
	sg      *graph.Subgraph
	byUID   map[string]string   // service-account uniqueId -> email
	project map[string][]string // project id -> service-account emails
	saIDs   []string            // every service-account email, sorted
}

func build(project string, in *inventory, log *slog.Logger) *graph.Subgraph {
	source := "gcp:" + project
	b := &builder{
		source:  source,
		prefix:  source + ":",
		log:     log,
		nodes:   map[string]*graph.Node{},
		edges:   map[string]int{},
		sg:      &graph.Subgraph{Source: source},
		byUID:   map[string]string{},
		project: map[string][]string{},
	}
	b.account(targetProject, project)
	for _, a := range in.accounts {
		b.serviceAccount(a)
	}
	for _, k := range in.keys {
		b.key(k)
	}
	for _, k := range in.apiKeys {
		b.apiKey(project, k)
	}
	for email := range b.saEmails() {
		b.saIDs = append(b.saIDs, email)
	}
	sort.Strings(b.saIDs)
	for _, email := range b.saIDs {
		p := b.nodes[b.saID(email)].Attrs["project_id"]
		b.project[p] = append(b.project[p], email)
	}
	for _, p := range in.policies {
		b.policy(p)
	}
	for _, id := range slices.Sorted(maps.Keys(b.nodes)) {
		b.sg.AddNode(*b.nodes[id])
	}
	return b.sg
}

func (b *builder) saEmails() map[string]bool {
	out := map[string]bool{}
	for id, n := range b.nodes {
		if n.Kind == graph.KindServiceAccount && strings.HasPrefix(id, b.prefix+"serviceAccounts/") {
			out[n.Attrs[graph.AttrEmail]] = true
		}
	}
	return out
}

func (b *builder) node(n graph.Node) *graph.Node {
	if have, ok := b.nodes[n.ID]; ok {
		return have
	}
	n.Source = b.source
	b.nodes[n.ID] = &n
	return &n
}

// edge adds e once; an unconditional copy of a conditional edge wins, since
// it is the stronger fact.
func (b *builder) edge(e graph.Edge) {
	k := e.Key()
	if i, ok := b.edges[k]; ok {
		if b.sg.Edges[i].Conditional && !e.Conditional {
			b.sg.Edges[i] = e
		}
		return
	}
	b.edges[k] = len(b.sg.Edges)
	b.sg.AddEdge(e)
}

func (b *builder) resourceName(kind, id string) string {
	switch kind {
	case targetOrganization:
		return "organizations/" + id
	case targetFolder:
		return "folders/" + id
	case targetProject:
		return "projects/" + id
	}
	return "projects/-/serviceAccounts/" + id
}

func (b *builder) account(kind, id string) string {
	name := b.resourceName(kind, id)
	n := b.node(graph.Node{ID: b.prefix + name, Kind: graph.KindAccount, Name: name, Subtype: kind})
	return n.ID
}

func (b *builder) saID(email string) string {
	return b.prefix + "serviceAccounts/" + strings.ToLower(email)
}

// saStub returns the node of a service account known only by reference
// (a policy member, a key's owner), creating it without listing facts.
func (b *builder) saStub(email string) *graph.Node {
	email = strings.ToLower(email)
	n := b.node(graph.Node{ID: b.saID(email), Kind: graph.KindServiceAccount, Name: email,
		Attrs: map[string]string{graph.AttrEmail: email, "listed": "false"}})
	if n.Attrs["project_id"] == "" {
		if p := projectOfEmail(email); p != "" {
			n.Attrs["project_id"] = p
		}
	}
	return n
}

// projectOfEmail returns P from "name@P.iam.gserviceaccount.com"; default
// compute and App Engine accounts do not name their project that way.
func projectOfEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || !strings.HasSuffix(email, ".iam.gserviceaccount.com") {
		return ""
	}
	return strings.TrimSuffix(email[at+1:], ".iam.gserviceaccount.com")
}

func (b *builder) serviceAccount(r accountRec) {
	a := r.account
	n := b.saStub(a.Email)
	delete(n.Attrs, "listed")
	if a.DisplayName != "" {
		n.Attrs["display_name"] = a.DisplayName
	}
	if a.Description != "" {
		n.Attrs["description"] = a.Description
	}
	if a.UniqueId != "" {
		n.Attrs["unique_id"] = a.UniqueId
		b.byUID[a.UniqueId] = strings.ToLower(a.Email)
	}
	if a.Name != "" {
		n.Attrs["resource_name"] = a.Name
	}
	if a.ProjectId != "" {
		n.Attrs["project_id"] = a.ProjectId
	}
	if a.Disabled {
		n.Status = graph.StatusDisabled
	} else if n.Status == "" {
		n.Status = graph.StatusActive
	}
	if p := n.Attrs["project_id"]; p != "" {
		b.edge(graph.Edge{From: n.ID, To: b.account(targetProject, p), Kind: graph.EdgeInAccount})
	}
}

func (b *builder) key(r keyRec) {
	k := r.key
	sa, id, _ := splitKeyName(k.Name)
	if email, ok := b.byUID[sa]; ok {
		sa = email
	}
	owner := b.saStub(sa)
	n := b.node(graph.Node{
		ID:      owner.ID + "/keys/" + id,
		Kind:    graph.KindCredential,
		Subtype: "sa_key",
		Name:    secret.Mask(id),
		Attrs: map[string]string{
			graph.AttrKeyIDMasked: secret.Mask(id),
			graph.AttrFingerprint: fingerprint(id),
			"key_type":            k.KeyType,
			"key_origin":          k.KeyOrigin,
			"key_algorithm":       k.KeyAlgorithm,
			"service_account":     owner.Name,
		},
	})
	// Only user-managed keys are private keys a customer holds; Google
	// holds and rotates system-managed ones.
	n.Attrs["customer_held"] = boolString(k.KeyType == "USER_MANAGED")
	if t, ok := parseTime(k.ValidAfterTime); ok {
		// Google rotates system-managed keys itself (about every two
		// weeks): their age says nothing about rotation, so it is kept as
		// a fact but is not the credential's age.
		if k.KeyType == "SYSTEM_MANAGED" {
			n.Attrs["valid_after"] = t.Format(time.RFC3339)
		} else {
			n.CreatedAt = t
		}
	}
	if t, ok := parseTime(k.ValidBeforeTime); ok {
		if t.Year() >= 9999 {
			n.Attrs["never_expires"] = "true"
		} else {
			n.ExpiresAt = t
		}
	}
	if k.Disabled {
		n.Status = graph.StatusDisabled
		if k.DisableReason != "" {
			n.Attrs["disable_reason"] = k.DisableReason
		}
	}
	b.edge(graph.Edge{From: owner.ID, To: n.ID, Kind: graph.EdgeHasCredential})
}

func (b *builder) policy(p policyRec) {
	var target, resource string
	if p.target.kind == targetServiceAccount {
		target = b.saStub(p.target.id).ID
		resource = b.resourceName(targetServiceAccount, strings.ToLower(p.target.id))
	} else {
		target = b.account(p.target.kind, p.target.id)
		resource = b.resourceName(p.target.kind, p.target.id)
	}
	for _, bind := range p.policy.Bindings {
		priv := classifyRole(bind.Role)
		conditional := bind.Condition != nil && bind.Condition.Expression != ""
		attrs := map[string]string{graph.AttrVia: resource + " " + bind.Role}
		if conditional {
			attrs["condition_title"] = bind.Condition.Title
			attrs["condition_expression"] = bind.Condition.Expression
		}
		for _, m := range bind.Members {
			member, ok := b.member(m)
			if !ok {
				b.log.Warn("gcp: skipping policy member of unknown type", "file", p.file, "role", bind.Role, "member", m)
				continue
			}
			b.edge(graph.Edge{From: member, To: target, Kind: graph.EdgeGrants, Action: bind.Role,
				Resource: resource, Effect: graph.EffectAllow, Conditional: conditional, Privilege: priv,
				Attrs: copyAttrs(attrs)})
			if !impersonationRoles[bind.Role] {
				continue
			}
			for _, sa := range b.impersonable(p.target) {
				if sa == member {
					continue
				}
				b.edge(graph.Edge{From: member, To: sa, Kind: graph.EdgeCanAssume, Conditional: conditional,
					Attrs: copyAttrs(attrs)})
			}
		}
	}
}

// impersonable lists the service accounts a binding at t lets its members
// act as: the account itself, every account of the project, or, for an
// organization or folder, every account in the export (the export is one
// project and its ancestors).
func (b *builder) impersonable(t policyTarget) []string {
	var emails []string
	switch t.kind {
	case targetServiceAccount:
		emails = []string{t.id}
	case targetProject:
		emails = b.project[t.id]
	default:
		emails = b.saIDs
	}
	out := make([]string, 0, len(emails))
	for _, e := range emails {
		out = append(out, b.saID(e))
	}
	return out
}

// member returns the node id of an IAM policy member, creating its node.
func (b *builder) member(m string) (string, bool) {
	deleted := false
	if rest, ok := strings.CutPrefix(m, "deleted:"); ok {
		deleted = true
		m = rest
		if i := strings.Index(m, "?uid="); i >= 0 {
			m = m[:i]
		}
	}
	typ, val, _ := strings.Cut(m, ":")
	var n *graph.Node
	switch {
	case m == "allUsers" || m == "allAuthenticatedUsers":
		n = b.node(graph.Node{ID: b.prefix + m, Kind: graph.KindGroup, Name: m, Attrs: map[string]string{"public": "true"}})
	case strings.HasPrefix(m, "principal://") || strings.HasPrefix(m, "principalSet://"):
		n = b.node(graph.Node{ID: b.prefix + m, Kind: graph.KindWorkload, Subtype: "workload_identity", Name: m})
	case val == "":
		return "", false
	case typ == "serviceAccount":
		if deleted {
			n = b.node(graph.Node{ID: b.prefix + "deleted/serviceAccounts/" + strings.ToLower(val), Kind: graph.KindServiceAccount,
				Name: strings.ToLower(val), Status: graph.StatusDisabled, Attrs: map[string]string{graph.AttrEmail: strings.ToLower(val), "deleted": "true"}})
			return n.ID, true
		}
		n = b.saStub(val)
	case typ == "user":
		n = b.node(graph.Node{ID: b.prefix + "user/" + strings.ToLower(val), Kind: graph.KindUser, Name: strings.ToLower(val),
			Attrs: map[string]string{graph.AttrEmail: strings.ToLower(val)}})
	case typ == "group":
		n = b.node(graph.Node{ID: b.prefix + "group/" + strings.ToLower(val), Kind: graph.KindGroup, Name: strings.ToLower(val),
			Attrs: map[string]string{graph.AttrEmail: strings.ToLower(val)}})
	case typ == "domain":
		n = b.node(graph.Node{ID: b.prefix + "domain/" + strings.ToLower(val), Kind: graph.KindGroup, Name: strings.ToLower(val),
			Attrs: map[string]string{"domain": strings.ToLower(val)}})
	case typ == "projectOwner" || typ == "projectEditor" || typ == "projectViewer":
		n = b.node(graph.Node{ID: b.prefix + typ + "/" + val, Kind: graph.KindGroup, Name: m})
	default:
		return "", false
	}
	if deleted {
		n.Status = graph.StatusDisabled
		n.Attrs = setAttr(n.Attrs, "deleted", "true")
	}
	return n.ID, true
}

// apiKey emits an API key: a credential of the project (or of the service
// account it is bound to). Its keyString is never read.
func (b *builder) apiKey(project string, r apiKeyRec) {
	k := r.key
	id := k.UID
	if id == "" {
		id = k.Name[strings.LastIndexByte(k.Name, '/')+1:]
	}
	n := b.node(graph.Node{ID: b.prefix + "apiKeys/" + id, Kind: graph.KindCredential, Subtype: "api_key",
		Name: k.DisplayName, Attrs: map[string]string{graph.AttrKeyIDMasked: secret.Mask(id), "resource_name": k.Name,
			"restricted": boolString(len(k.Restrictions) > 0 && string(k.Restrictions) != "null" && string(k.Restrictions) != "{}")}})
	if n.Name == "" {
		n.Name = secret.Mask(id)
	}
	if t, ok := parseTime(k.CreateTime); ok {
		n.CreatedAt = t
	}
	if t, ok := parseTime(k.DeleteTime); ok {
		// A deleted key can be restored for 30 days; it works no more.
		n.Status = graph.StatusDisabled
		n.Attrs["deleted_at"] = t.Format(time.RFC3339)
	}
	if k.ServiceAccountEmail != "" {
		b.edge(graph.Edge{From: b.saStub(k.ServiceAccountEmail).ID, To: n.ID, Kind: graph.EdgeHasCredential})
	}
	b.edge(graph.Edge{From: n.ID, To: b.account(targetProject, project), Kind: graph.EdgeInAccount})
}

func setAttr(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

func copyAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func fingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
