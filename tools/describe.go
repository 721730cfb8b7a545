package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
	"github.com/steward-oss/steward/query"
)

// Identity is describe_identity's answer: everything the graph knows about
// one node that matters for governing it. Credential values never appear;
// credentials show their masked id.
type Identity struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Kind          graph.Kind        `json:"kind"`
	Subtype       string            `json:"subtype,omitempty"`
	Source        string            `json:"source"`
	Status        string            `json:"status,omitempty"`
	CreatedAt     string            `json:"created_at,omitempty"`
	LastUsedAt    string            `json:"last_used_at,omitempty"`
	ExpiresAt     string            `json:"expires_at,omitempty"`
	Privilege     graph.Privilege   `json:"privilege"`
	PrivilegeVia  string            `json:"privilege_via,omitempty"`
	OwnerStatus   graph.OwnerStatus `json:"owner_status"`
	Owners        []Owner           `json:"owners"`
	Holder        string            `json:"holder,omitempty"` // for a credential: the identity holding it
	Credentials   []Credential      `json:"credentials,omitempty"`
	MemberOf      []string          `json:"member_of,omitempty"`  // groups and roles (member_of)
	CanAssume     []string          `json:"can_assume,omitempty"` // roles and identities it can become
	Grants        []Grant           `json:"grants,omitempty"`
	GrantsTotal   int               `json:"grants_total"`
	Usage         []Use             `json:"usage,omitempty"`
	Leaks         []query.EdgeRef   `json:"leaks,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Attrs         map[string]string `json:"attrs,omitempty"`
	NeverUsed     bool              `json:"never_used"`
	IdleDays      *int              `json:"idle_days,omitempty"`
	PrivilegePath []query.EdgeRef   `json:"privilege_path,omitempty"`
}

// Owner is one accountable human, with why Steward believes it.
type Owner struct {
	ID         string `json:"id"`
	Email      string `json:"email,omitempty"`
	Name       string `json:"name,omitempty"`
	Status     string `json:"status,omitempty"` // active or departed
	Team       string `json:"team,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Confidence string `json:"confidence,omitempty"`
	// Via is set when the owner is inherited from the credential's holder.
	Via string `json:"via,omitempty"`
}

// Credential is one credential an identity holds, masked.
type Credential struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Subtype       string `json:"subtype,omitempty"`
	Status        string `json:"status,omitempty"`
	AgeDays       *int   `json:"age_days,omitempty"`
	CreatedAt     string `json:"created_at,omitempty"`
	LastUsedAt    string `json:"last_used_at,omitempty"`
	RotatedAt     string `json:"rotated_at,omitempty"`
	ExpiresAt     string `json:"expires_at,omitempty"`
	ExpiresInDays *int   `json:"expires_in_days,omitempty"`
	Leaked        bool   `json:"leaked"`
}

// Grant is one reachable grant.
type Grant struct {
	Resource  string  `json:"resource"`
	Action    string  `json:"action"`
	Effect    string  `json:"effect,omitempty"`
	Privilege string  `json:"privilege"`
	Via       string  `json:"via"`
	Depth     float64 `json:"depth"`
}

// Use is one recorded use.
type Use struct {
	Target   string `json:"target"`
	By       string `json:"by,omitempty"` // the credential used, when not the identity itself
	LastSeen string `json:"last_seen"`
	Action   string `json:"action,omitempty"`
}

// shownAttrs are the attributes describe_identity passes on: facts an
// analyst needs, none of them secret.
var shownAttrs = []string{graph.AttrEmail, graph.AttrTeam, graph.AttrARN, graph.AttrKeyIDMasked, graph.AttrTokenPrefix,
	graph.AttrManagedBy, graph.AttrInstalledBy, graph.AttrNamespace, graph.AttrEnvironment, graph.AttrMFA, graph.AttrPasswordNever}

// maxUsage bounds the usage list.
const maxUsage = 20

func describeIdentity() Tool {
	return Tool{
		Name: "describe_identity",
		Description: "Everything known about one identity or credential: owners with reason and confidence, credentials (masked) with age, last use and expiry, " +
			"group and role memberships, reachable grants, recent usage, leak findings, status.",
		Schema: mustJSON(obj{"type": "object", "additionalProperties": false, "required": []string{"identity"}, "properties": obj{
			"identity": str("identity or credential id or name"),
		}}),
		ReadOnly: true,
		Run: func(ctx context.Context, env *Env, raw json.RawMessage) (*Output, error) {
			var a struct {
				Identity string `json:"identity"`
			}
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			if strings.TrimSpace(a.Identity) == "" {
				return nil, argErr("identity", "required")
			}
			i, err := query.Resolve(env.Index, a.Identity)
			if err != nil {
				return nil, err
			}
			d, err := describe(ctx, env, i)
			if err != nil {
				return nil, err
			}
			n := env.Index.Node(i)
			p := &query.Plan{Version: query.Version, IDs: []string{n.ID}, Kinds: []graph.Kind{n.Kind}}
			res, err := execute(ctx, env, p)
			if err != nil {
				return nil, err
			}
			return &Output{Plan: p, Result: res, Identity: d, Text: describeText(d)}, nil
		},
	}
}

func describeText(d *Identity) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %s) is %s, holds %s", d.Name, d.Kind, d.Source, orDash(d.Status), d.Privilege)
	switch d.OwnerStatus {
	case graph.OwnerAbsent:
		b.WriteString(", has no owner")
	default:
		var who []string
		for _, o := range d.Owners {
			who = append(who, o.Email+" ("+o.Status+")")
		}
		fmt.Fprintf(&b, ", owner %s: %s", d.OwnerStatus, strings.Join(who, ", "))
	}
	if d.NeverUsed {
		b.WriteString(", never used")
	} else if d.LastUsedAt != "" {
		fmt.Fprintf(&b, ", last used %s", d.LastUsedAt)
	}
	if len(d.Credentials) > 0 {
		fmt.Fprintf(&b, ", %s", plural(len(d.Credentials), "credential", "credentials"))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describe(ctx context.Context, env *Env, i int32) (*Identity, error) {
	ix := env.Index
	n := ix.Node(i)
	days := func(t time.Time) *int {
		if t.IsZero() {
			return nil
		}
		d := int(math.Floor(env.Now.Sub(t).Hours() / 24))
		return &d
	}
	d := &Identity{ID: MaskSecrets(n.ID), Name: displayName(&n), Kind: n.Kind, Subtype: n.Subtype, Source: n.Source, Status: n.Status,
		CreatedAt: ts(n.CreatedAt), ExpiresAt: ts(n.ExpiresAt), Owners: []Owner{}}
	if len(n.Tags) > 0 {
		d.Tags = map[string]string{}
		for k, v := range n.Tags {
			d.Tags[k] = MaskSecrets(v)
		}
	}
	for _, k := range shownAttrs {
		if v, ok := n.Attrs[k]; ok {
			if d.Attrs == nil {
				d.Attrs = map[string]string{}
			}
			d.Attrs[k] = MaskSecrets(v)
		}
	}
	last, _ := ix.LastUsed(i)
	d.LastUsedAt = ts(last)
	d.NeverUsed = last.IsZero()
	idle := last
	if n.CreatedAt.After(idle) {
		idle = n.CreatedAt
	}
	d.IdleDays = days(idle)
	var path []int32
	d.Privilege, path = ix.Privilege(i)
	for _, ei := range path {
		d.PrivilegePath = append(d.PrivilegePath, query.Ref(ix.Edge(ei)))
	}
	if len(d.PrivilegePath) > 0 {
		d.PrivilegeVia = PathText(ix, d.PrivilegePath)
	}
	owners, st := ix.Owners(i)
	d.OwnerStatus = st
	via := ""
	for _, ei := range owners {
		e := ix.Edge(ei)
		if e.Kind == graph.EdgeHasCredential {
			if h, ok := ix.Lookup(e.From); ok {
				hn := ix.Node(h)
				via = displayName(&hn)
			}
			continue
		}
		h, ok := ix.Lookup(e.From)
		if !ok {
			continue
		}
		hn := ix.Node(h)
		email := hn.Attrs[graph.AttrEmail]
		if email == "" {
			email = strings.TrimPrefix(hn.ID, "human:")
		}
		d.Owners = append(d.Owners, Owner{ID: hn.ID, Email: email, Name: hn.Name, Status: hn.Status, Team: hn.Attrs[graph.AttrTeam],
			Reason: e.Attrs[graph.AttrReason], Confidence: e.Attrs[graph.AttrConfidence], Via: via})
	}
	for _, ei := range ix.In(i) {
		if e := ix.Edge(ei); e.Kind == graph.EdgeHasCredential {
			if h, ok := ix.Lookup(e.From); ok {
				d.Holder = ix.NodeID(h)
			}
		}
	}
	var uses []Use
	addUses := func(from int32, by string) {
		for _, ei := range ix.Out(from) {
			e := ix.Edge(ei)
			if e.Kind != graph.EdgeUsed {
				continue
			}
			uses = append(uses, Use{Target: e.To, By: by, LastSeen: ts(e.LastSeen), Action: e.Attrs[graph.AttrUsedAction]})
		}
	}
	addUses(i, "")
	for _, ei := range ix.Out(i) {
		e := ix.Edge(ei)
		t, ok := ix.Lookup(e.To)
		if !ok {
			continue
		}
		tn := ix.Node(t)
		switch e.Kind {
		case graph.EdgeMemberOf:
			d.MemberOf = append(d.MemberOf, tn.ID)
		case graph.EdgeCanAssume:
			d.CanAssume = append(d.CanAssume, tn.ID)
		case graph.EdgeHasCredential:
			cl, _ := ix.LastUsed(t)
			c := Credential{ID: MaskSecrets(tn.ID), Name: displayName(&tn), Subtype: tn.Subtype, Status: tn.Status, AgeDays: days(tn.CreatedAt),
				CreatedAt: ts(tn.CreatedAt), LastUsedAt: ts(cl), RotatedAt: ts(tn.RotatedAt), ExpiresAt: ts(tn.ExpiresAt),
				Leaked: len(ix.Leaks(t)) > 0}
			if !tn.ExpiresAt.IsZero() {
				left := -*days(tn.ExpiresAt)
				c.ExpiresInDays = &left
			}
			d.Credentials = append(d.Credentials, c)
			addUses(t, c.ID)
		}
	}
	sort.Slice(uses, func(a, b int) bool { return uses[a].LastSeen > uses[b].LastSeen })
	if len(uses) > maxUsage {
		uses = uses[:maxUsage]
	}
	d.Usage = uses
	for _, ei := range ix.Leaks(i) {
		d.Leaks = append(d.Leaks, query.Ref(ix.Edge(ei)))
	}
	if n.Kind.IsIdentity() || n.Kind == graph.KindCredential || n.Kind == graph.KindRole || n.Kind == graph.KindGroup {
		p := &query.Plan{Version: query.Version, Reach: &query.Reach{From: n.ID}}
		res, err := execute(ctx, env, p)
		if err != nil {
			return nil, err
		}
		d.GrantsTotal = res.Total
		for _, r := range res.Rows {
			g := Grant{}
			g.Resource, _ = cell(res, r, "resource").(string)
			g.Action, _ = cell(res, r, "action").(string)
			g.Effect, _ = cell(res, r, "effect").(string)
			g.Privilege, _ = cell(res, r, "privilege").(string)
			g.Via, _ = cell(res, r, "via").(string)
			g.Depth, _ = cell(res, r, "depth").(float64)
			d.Grants = append(d.Grants, g)
		}
	}
	return d, nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// displayName is how a node is shown: a credential by its masked key id,
// anything by a name with secret-shaped substrings masked.
func displayName(n *graph.Node) string {
	if m := n.Attrs[graph.AttrKeyIDMasked]; m != "" {
		return m
	}
	if n.Name == "" {
		return MaskSecrets(n.ID)
	}
	return MaskSecrets(n.Name)
}

// secretRE matches substrings shaped like live credential values (cloud
// access key ids, vendor tokens, long opaque strings). Connectors should
// never put these in names or ids; this is the last line of defence.
var secretRE = regexp.MustCompile(`\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,})\b|[A-Za-z0-9+/]{40,}={0,2}`)

// MaskSecrets masks every secret-shaped substring of s.
func MaskSecrets(s string) string {
	return secretRE.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) >= 40 && !vendorToken(m) && !opaque(m) {
			return m // a long name or path, not a secret
		}
		return secret.Mask(m)
	})
}

func vendorToken(m string) bool {
	for _, p := range []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "gh", "github_pat_", "xox", "sk-", "glpat-"} {
		if strings.HasPrefix(m, p) && !strings.Contains(m, "/") {
			return true
		}
	}
	return false
}

// opaque reports whether a long run looks random (mixed digits and
// letters, no path separators) rather than like a name.
func opaque(m string) bool {
	digits, letters := 0, 0
	for _, c := range m {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		}
	}
	return digits >= 6 && letters >= 6 && !strings.Contains(m, "/")
}
