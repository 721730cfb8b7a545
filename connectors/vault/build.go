package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// Subtypes and attributes this connector sets.
const (
	SubtypeAuthMethod = "auth_method"
	SubtypeAppRole    = "approle"
	SubtypeToken      = "token"
)

// roleMethods are the auth method types whose roles are read, and the
// path under the mount that lists them.
var roleMethods = map[string]string{
	"approle":    "role",
	"kubernetes": "role",
	"jwt":        "role",
	"oidc":       "role",
	"aws":        "role",
}

type mount struct {
	path, typ, accessor, description string
}

type authRole struct {
	mount mount
	name  string
	data  map[string]any
	where string
}

type policy struct {
	name  string
	rules []Rule
}

type token struct {
	accessor string
	data     map[string]any
	where    string
}

type export struct {
	mounts   []mount
	roles    []authRole
	policies []policy
	tokens   []token
}

// load walks sys/auth, the roles of each supported method, the ACL
// policies and the token accessors.
func load(ctx context.Context, b backend) (*export, error) {
	ex := &export{}
	auth, err := b.read(ctx, "sys/auth")
	if err != nil {
		return nil, err
	}
	if auth != nil {
		for _, p := range slices.Sorted(maps.Keys(auth.Data)) {
			m, ok := auth.Data[p].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("vault: %s: data[%q]: want an object, got %T", where(auth, "sys/auth"), p, auth.Data[p])
			}
			mt := mount{path: strings.TrimSuffix(p, "/"), typ: str(m["type"]), accessor: str(m["accessor"]), description: str(m["description"])}
			if mt.typ == "" {
				return nil, fmt.Errorf("vault: %s: data[%q].type: empty", where(auth, "sys/auth"), p)
			}
			ex.mounts = append(ex.mounts, mt)
		}
	}
	for _, m := range ex.mounts {
		sub, ok := roleMethods[m.typ]
		if !ok {
			continue
		}
		lp := "auth/" + m.path + "/" + sub
		ls, err := b.list(ctx, lp)
		if err != nil {
			return nil, err
		}
		names, err := keys(ls, lp)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			rp := lp + "/" + n
			s, err := b.read(ctx, rp)
			if err != nil {
				return nil, err
			}
			if s == nil {
				return nil, fmt.Errorf("vault: %s listed role %q but %s is missing", lp, n, rp)
			}
			ex.roles = append(ex.roles, authRole{mount: m, name: n, data: s.Data, where: where(s, rp)})
		}
	}
	ls, err := b.list(ctx, "sys/policies/acl")
	if err != nil {
		return nil, err
	}
	names, err := keys(ls, "sys/policies/acl")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		pp := "sys/policies/acl/" + n
		s, err := b.read(ctx, pp)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, fmt.Errorf("vault: sys/policies/acl listed %q but %s is missing", n, pp)
		}
		text := str(s.Data["policy"])
		if text == "" {
			text = str(s.Data["rules"])
		}
		rules, err := ParsePolicy(text)
		if err != nil {
			return nil, fmt.Errorf("vault: %s: data.policy: %w", where(s, pp), err)
		}
		ex.policies = append(ex.policies, policy{name: n, rules: rules})
	}
	ls, err = b.list(ctx, "auth/token/accessors")
	if err != nil {
		return nil, err
	}
	accs, err := keys(ls, "auth/token/accessors")
	if err != nil {
		return nil, err
	}
	for _, a := range accs {
		s, err := b.lookupAccessor(ctx, a)
		if err != nil {
			return nil, err
		}
		if s == nil {
			// Tokens expire between the list and the lookup; Vault then
			// answers 400/404 and the token no longer exists.
			continue
		}
		ex.tokens = append(ex.tokens, token{accessor: a, data: s.Data, where: where(s, "auth/token/lookup-accessor")})
	}
	if auth == nil && ls == nil && len(ex.policies) == 0 {
		return nil, fmt.Errorf("vault: none of sys/auth, sys/policies/acl, auth/token/accessors was found (see connectors/vault/README.md)")
	}
	return ex, nil
}

type builder struct {
	src   string
	sg    *graph.Subgraph
	nodes map[string]bool
}

func (b *builder) node(n graph.Node) {
	if b.nodes[n.ID] {
		return
	}
	b.nodes[n.ID] = true
	b.sg.AddNode(n)
	if n.Kind != graph.KindAccount {
		b.sg.AddEdge(graph.Edge{From: n.ID, To: b.src, Kind: graph.EdgeInAccount})
	}
}

func (b *builder) policyID(name string) string { return b.src + ":policy/" + name }

// attach links policies to what carries them. Vault adds "default" to
// every token unless told not to; "root" is built in and not listed.
func (b *builder) attach(to string, names []string) {
	for _, p := range names {
		b.ensurePolicy(p)
		b.sg.AddEdge(graph.Edge{From: b.policyID(p), To: to, Kind: graph.EdgeAttachedTo})
	}
}

func (b *builder) ensurePolicy(name string) {
	id := b.policyID(name)
	if b.nodes[id] {
		return
	}
	n := graph.Node{ID: id, Kind: graph.KindPolicy, Name: name, Attrs: map[string]string{}}
	if name == "root" {
		n.Attrs["builtin"] = "true"
		b.node(n)
		b.sg.AddEdge(graph.Edge{From: id, To: b.src, Kind: graph.EdgeGrants, Action: "*", Resource: "*",
			Effect: graph.EffectAllow, Privilege: graph.PrivAdmin, Attrs: map[string]string{graph.AttrVia: "built-in root policy"}})
		return
	}
	// A policy named by a role or token but absent from sys/policies/acl
	// grants nothing in Vault; keep the node so the reference is visible.
	n.Attrs["listed"] = "false"
	b.node(n)
}

func build(scope, k8sCluster string, ex *export) (*graph.Subgraph, error) {
	src := "vault:" + scope
	b := &builder{src: src, sg: &graph.Subgraph{Source: src}, nodes: map[string]bool{}}
	b.node(graph.Node{ID: src, Kind: graph.KindAccount, Subtype: "vault_cluster", Name: scope})

	for _, p := range ex.policies {
		if p.name == "root" {
			b.ensurePolicy("root") // listed with an empty body; its power is built in
			continue
		}
		id := b.policyID(p.name)
		b.node(graph.Node{ID: id, Kind: graph.KindPolicy, Name: p.name, Attrs: map[string]string{"rules": strconv.Itoa(len(p.rules))}})
		for _, r := range p.rules {
			eff := graph.EffectAllow
			if r.Privilege() == graph.PrivNone && contains(r.Capabilities, "deny") {
				eff = graph.EffectDeny
			}
			b.sg.AddEdge(graph.Edge{From: id, To: src, Kind: graph.EdgeGrants, Action: strings.Join(r.Capabilities, ","),
				Resource: r.Path, Effect: eff, Privilege: r.Privilege(),
				Attrs: map[string]string{graph.AttrVia: fmt.Sprintf("policy %s line %d", p.name, r.Line)}})
		}
	}
	for _, m := range ex.mounts {
		b.node(graph.Node{ID: src + ":auth/" + m.path, Kind: graph.KindResource, Subtype: SubtypeAuthMethod, Name: m.path,
			Attrs: map[string]string{"type": m.typ, "mount_accessor": m.accessor, "description": m.description}})
	}
	for _, r := range ex.roles {
		id := roleID(src, r.mount.path, r.name)
		attrs := flatten(r.data)
		for _, k := range sensitiveRoleFields {
			delete(attrs, k)
		}
		attrs["auth_type"] = r.mount.typ
		attrs["mount"] = r.mount.path
		n := graph.Node{ID: id, Kind: graph.KindRole, Subtype: r.mount.typ + "_role", Name: r.name, Attrs: attrs}
		if r.mount.typ == "approle" {
			// An AppRole role is what an application logs in as.
			n.Kind, n.Subtype = graph.KindServiceAccount, SubtypeAppRole
		}
		b.node(n)
		pols, err := strList(r.data, "token_policies", "policies")
		if err != nil {
			return nil, fmt.Errorf("vault: %s: %w", r.where, err)
		}
		if !truthy(r.data["token_no_default_policy"]) {
			pols = appendUnique(pols, "default")
		}
		b.attach(id, pols)
		if r.mount.typ == "aws" {
			arns, err := strList(r.data, "bound_iam_principal_arn")
			if err != nil {
				return nil, fmt.Errorf("vault: %s: %w", r.where, err)
			}
			for _, arn := range arns {
				// A wildcard ARN matches principals this connector cannot
				// enumerate; attrs keep it.
				if strings.Contains(arn, "*") {
					continue
				}
				from, err := awsid.PrincipalNodeID(arn)
				if err != nil {
					return nil, fmt.Errorf("vault: %s: data.bound_iam_principal_arn: %w", r.where, err)
				}
				b.sg.AddEdge(graph.Edge{From: from, To: id, Kind: graph.EdgeCanAssume,
					Attrs: map[string]string{graph.AttrVia: "vault aws auth role " + r.mount.path + "/" + r.name}})
			}
		}
		if r.mount.typ == "kubernetes" && k8sCluster != "" {
			names, err := strList(r.data, "bound_service_account_names")
			if err != nil {
				return nil, fmt.Errorf("vault: %s: %w", r.where, err)
			}
			nss, err := strList(r.data, "bound_service_account_namespaces")
			if err != nil {
				return nil, fmt.Errorf("vault: %s: %w", r.where, err)
			}
			for _, ns := range nss {
				for _, sa := range names {
					// Globs ("*", "app-*") match service accounts this
					// connector cannot enumerate; attrs keep them.
					if strings.ContainsAny(ns+sa, "*") {
						continue
					}
					b.sg.AddEdge(graph.Edge{From: "k8s:" + k8sCluster + ":sa/" + ns + "/" + sa, To: id, Kind: graph.EdgeCanAssume,
						Attrs: map[string]string{graph.AttrVia: "vault kubernetes auth role " + r.mount.path + "/" + r.name}})
				}
			}
		}
	}
	for _, t := range ex.tokens {
		if err := b.token(t); err != nil {
			return nil, err
		}
	}
	if err := b.sg.Validate(); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return b.sg, nil
}

func roleID(src, mountPath, name string) string { return src + ":auth/" + mountPath + "/role/" + name }

// sensitiveRoleFields are never copied from role data: AppRole's role_id
// is half of a login, and config-style fields can carry secrets.
var sensitiveRoleFields = []string{"role_id", "secret_id", "token_reviewer_jwt", "client_secret", "oidc_client_secret", "jwt_validation_pubkeys"}

// tokenFields are the lookup-accessor fields copied to attrs. The
// response's "id" (blank for accessor lookups) is never copied.
var tokenFields = []string{"display_name", "orphan", "ttl", "creation_ttl", "explicit_max_ttl", "path", "type",
	"renewable", "num_uses", "entity_id", "issue_time"}

func (b *builder) token(t token) error {
	sum := sha256.Sum256([]byte(t.accessor))
	fp := hex.EncodeToString(sum[:])
	id := b.src + ":token/" + fp[:16]
	attrs := map[string]string{graph.AttrKeyIDMasked: secret.Mask(t.accessor), graph.AttrFingerprint: fp}
	all := flatten(t.data)
	for _, f := range tokenFields {
		if v, ok := all[f]; ok {
			attrs[f] = v
		}
	}
	pols, err := strList(t.data, "policies")
	if err != nil {
		return fmt.Errorf("vault: %s: %w", t.where, err)
	}
	attrs["policies"] = strings.Join(pols, ",")
	n := graph.Node{ID: id, Kind: graph.KindCredential, Subtype: SubtypeToken, Name: attrs["display_name"], Attrs: attrs}
	if n.Name == "" {
		n.Name = "token " + secret.Mask(t.accessor)
	}
	if ct, ok := t.data["creation_time"]; ok && ct != nil {
		sec, err := strconv.ParseInt(fmt.Sprint(ct), 10, 64)
		if err != nil {
			return fmt.Errorf("vault: %s: data.creation_time: %q is not unix seconds", t.where, fmt.Sprint(ct))
		}
		n.CreatedAt = time.Unix(sec, 0).UTC()
	}
	if et := str(t.data["expire_time"]); et != "" {
		tm, err := time.Parse(time.RFC3339Nano, et)
		if err != nil {
			return fmt.Errorf("vault: %s: data.expire_time: %w", t.where, err)
		}
		n.ExpiresAt = tm.UTC()
	}
	if lr := str(t.data["last_renewal_time"]); lr != "" {
		// Renewal is the only use Vault records per token.
		if tm, err := time.Parse(time.RFC3339Nano, lr); err == nil {
			n.LastUsedAt = tm.UTC()
		}
	}
	b.node(n)
	b.attach(id, pols)
	// Tokens issued by an auth role login are held by that role.
	if p := str(t.data["path"]); strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login") {
		mountPath := strings.TrimSuffix(strings.TrimPrefix(p, "auth/"), "/login")
		meta, _ := t.data["meta"].(map[string]any)
		role := str(meta["role_name"])
		if role == "" {
			role = str(meta["role"])
		}
		if role != "" && b.nodes[roleID(b.src, mountPath, role)] {
			b.sg.AddEdge(graph.Edge{From: roleID(b.src, mountPath, role), To: id, Kind: graph.EdgeHasCredential})
		}
	}
	return nil
}

// flatten copies a Vault data map to string attrs: scalars as text, lists
// of scalars comma-joined, anything else as compact JSON. Nulls and
// empties are dropped.
func flatten(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch x := v.(type) {
		case nil:
		case string:
			if x != "" {
				out[k] = x
			}
		case json.Number, bool, float64, int, int64:
			out[k] = fmt.Sprint(x)
		case []any:
			parts := make([]string, 0, len(x))
			scalar := true
			for _, e := range x {
				switch e.(type) {
				case string, json.Number, bool, float64:
					parts = append(parts, fmt.Sprint(e))
				default:
					scalar = false
				}
			}
			if !scalar {
				j, _ := json.Marshal(x)
				out[k] = string(j)
			} else if len(parts) > 0 {
				out[k] = strings.Join(parts, ",")
			}
		default:
			if j, err := json.Marshal(x); err == nil && string(j) != "{}" && string(j) != "null" {
				out[k] = string(j)
			}
		}
	}
	return out
}

// strList reads the first present key as a list of strings. Vault
// returns lists as JSON arrays, but some older roles store a
// comma-separated string.
func strList(m map[string]any, names ...string) ([]string, error) {
	var out []string
	for _, k := range names {
		v, ok := m[k]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("data.%s[%d]: want a string, got %T", k, i, e)
				}
				out = appendUnique(out, s)
			}
		case string:
			for _, s := range strings.Split(x, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = appendUnique(out, s)
				}
			}
		default:
			return nil, fmt.Errorf("data.%s: want a list, got %T", k, v)
		}
	}
	return out, nil
}

func appendUnique(s []string, v string) []string {
	if contains(s, v) {
		return s
	}
	return append(s, v)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func truthy(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
