package graph

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of a node. Every kind Steward knows is declared here so
// that a typo in a connector is a compile error, not a silent miss.
type Kind string

// Node kinds.
const (
	KindHuman          Kind = "human"
	KindServiceAccount Kind = "service_account"
	KindCredential     Kind = "credential"
	KindOAuthApp       Kind = "oauth_app"
	KindBot            Kind = "bot"
	KindAIAgent        Kind = "ai_agent"
	KindWorkload       Kind = "workload"
	KindGroup          Kind = "group"
	KindRole           Kind = "role"
	KindPolicy         Kind = "policy"
	KindResource       Kind = "resource"
	KindAccount        Kind = "account"
	// KindUser is a human login inside a source system (an IAM user with a
	// console password, an Okta person). It is a principal that can hold
	// credentials but is not itself a machine identity; it is linked to the
	// accountable person by an owns edge.
	KindUser Kind = "user"
)

// Kinds lists every node kind, in documentation order.
var Kinds = []Kind{KindHuman, KindUser, KindServiceAccount, KindCredential, KindOAuthApp, KindBot,
	KindAIAgent, KindWorkload, KindGroup, KindRole, KindPolicy, KindResource, KindAccount}

// NHIKinds are the non-human identity kinds: the things Steward governs.
var NHIKinds = []Kind{KindServiceAccount, KindCredential, KindOAuthApp, KindBot, KindAIAgent, KindWorkload}

// IdentityKinds are kinds that act as principals: they can hold grants,
// credentials, group memberships and be owned.
var IdentityKinds = []Kind{KindUser, KindServiceAccount, KindOAuthApp, KindBot, KindAIAgent, KindWorkload}

// Valid reports whether k is a declared kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// IsNHI reports whether k is a non-human identity kind.
func (k Kind) IsNHI() bool { return kindIn(k, NHIKinds) }

// IsIdentity reports whether k is a principal kind.
func (k Kind) IsIdentity() bool { return kindIn(k, IdentityKinds) }

func kindIn(k Kind, set []Kind) bool {
	for _, x := range set {
		if x == k {
			return true
		}
	}
	return false
}

// EdgeKind is the kind of an edge.
type EdgeKind string

// Edge kinds. Direction is part of the contract; see README.md.
const (
	EdgeOwns          EdgeKind = "owns"           // human -> identity|credential
	EdgeMemberOf      EdgeKind = "member_of"      // identity|group -> group|role
	EdgeCanAssume     EdgeKind = "can_assume"     // principal -> role|identity it can become
	EdgeHasCredential EdgeKind = "has_credential" // identity -> credential
	EdgeGrants        EdgeKind = "grants"         // principal|group|role|policy -> resource|account
	EdgeAttachedTo    EdgeKind = "attached_to"    // policy -> principal|group|role
	EdgeInAccount     EdgeKind = "in_account"     // any -> account
	EdgeCreatedBy     EdgeKind = "created_by"     // identity|credential -> human|identity
	EdgeUsed          EdgeKind = "used"           // identity|credential -> resource|account, LastSeen
	EdgeLeaked        EdgeKind = "leaked_in"      // credential -> resource (the repo/file a scanner found it in)
)

// EdgeKinds lists every edge kind.
var EdgeKinds = []EdgeKind{EdgeOwns, EdgeMemberOf, EdgeCanAssume, EdgeHasCredential, EdgeGrants,
	EdgeAttachedTo, EdgeInAccount, EdgeCreatedBy, EdgeUsed, EdgeLeaked}

// Valid reports whether k is a declared edge kind.
func (k EdgeKind) Valid() bool {
	for _, x := range EdgeKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Status of a node. Humans use StatusActive or StatusDeparted; everything
// else StatusActive or StatusDisabled.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusDeparted = "departed"
)

// Privilege is the derived privilege level of a grant or identity.
type Privilege string

// Privilege levels, weakest first.
const (
	PrivNone  Privilege = "none"
	PrivRead  Privilege = "read"
	PrivWrite Privilege = "write"
	PrivAdmin Privilege = "admin"
)

// Rank orders privileges: none < read < write < admin. Unknown is -1.
func (p Privilege) Rank() int {
	switch p {
	case PrivNone, "":
		return 0
	case PrivRead:
		return 1
	case PrivWrite:
		return 2
	case PrivAdmin:
		return 3
	}
	return -1
}

// Effect of a grant.
const (
	EffectAllow = "allow"
	EffectDeny  = "deny"
)

// Node is one vertex. ID is stable and source-qualified
// ("aws:123456789012:user/deploy", "k8s:prod:sa/ns/name", "human:alice@example.com").
type Node struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Source string `json:"source"`
	Name   string `json:"name"`
	// Subtype refines the kind: "access_key", "pat", "deploy_key",
	// "client_secret", "certificate", "sa_key", "api_token" for credentials;
	// "k8s_service_account", "managed_identity", "instance_profile" for workloads.
	Subtype    string            `json:"subtype,omitempty"`
	Status     string            `json:"status,omitempty"`
	CreatedAt  time.Time         `json:"created_at,omitzero"`
	LastUsedAt time.Time         `json:"last_used_at,omitzero"`
	RotatedAt  time.Time         `json:"rotated_at,omitzero"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	Tags       map[string]string `json:"tags,omitempty"`
	// Attrs holds further source facts as strings ("email", "team",
	// "manager", "arn", "mfa", "password_never_expires", "fingerprint"...).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Edge is one directed, typed relation. Edges with properties (grants,
// used) are reified in the store; see encode.go.
type Edge struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	Kind EdgeKind `json:"kind"`
	// Grants: the action pattern ("s3:GetObject", "*", "get"), the resource
	// pattern it applies to, allow/deny, whether conditions restrict it, and
	// the privilege level the connector derived from source semantics.
	Action      string    `json:"action,omitempty"`
	Resource    string    `json:"resource,omitempty"`
	Effect      string    `json:"effect,omitempty"`
	Conditional bool      `json:"conditional,omitempty"`
	Privilege   Privilege `json:"privilege,omitempty"`
	// Used: the last time From was seen using To.
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Attrs holds further facts ("reason", "confidence" on owns,
	// "via" on grants, "source_ip" on used, "count").
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Key identifies an edge within its source: two edges with the same key
// are the same fact.
func (e Edge) Key() string {
	return string(e.Kind) + "\x00" + e.From + "\x00" + e.To + "\x00" + e.Action + "\x00" + e.Resource + "\x00" + e.Effect
}

// Subgraph is everything one source says. A load replaces the stored
// subgraph of the same Source as a whole.
type Subgraph struct {
	Source string `json:"source"`
	Nodes  []Node `json:"nodes"`
	Edges  []Edge `json:"edges"`
}

// AddNode appends n, stamping the subgraph's source when n has none.
func (s *Subgraph) AddNode(n Node) {
	if n.Source == "" {
		n.Source = s.Source
	}
	if n.Status == "" && n.Kind != KindResource && n.Kind != KindAccount && n.Kind != KindPolicy {
		n.Status = StatusActive
	}
	s.Nodes = append(s.Nodes, n)
}

// AddEdge appends e.
func (s *Subgraph) AddEdge(e Edge) { s.Edges = append(s.Edges, e) }

// ValidationError names the bad element of a subgraph.
type ValidationError struct {
	Source string
	Where  string // "node[3]" or "edge[12]"
	Field  string
	Msg    string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("graph: source %q: %s.%s: %s", e.Source, e.Where, e.Field, e.Msg)
}

// Validate checks the subgraph is well formed: non-empty source, known
// kinds, unique node ids, edges with both ends. Edges may point at nodes
// of other sources (an owner from the HR roster, a role in another cloud).
func (s *Subgraph) Validate() error {
	if strings.TrimSpace(s.Source) == "" {
		return &ValidationError{Source: s.Source, Where: "subgraph", Field: "source", Msg: "empty"}
	}
	seen := make(map[string]int, len(s.Nodes))
	for i, n := range s.Nodes {
		where := fmt.Sprintf("node[%d]", i)
		switch {
		case n.ID == "":
			return &ValidationError{s.Source, where, "id", "empty"}
		case !n.Kind.Valid():
			return &ValidationError{s.Source, where, "kind", fmt.Sprintf("unknown kind %q", n.Kind)}
		case n.Source != s.Source:
			return &ValidationError{s.Source, where, "source", fmt.Sprintf("%q differs from subgraph source", n.Source)}
		}
		if j, dup := seen[n.ID]; dup {
			return &ValidationError{s.Source, where, "id", fmt.Sprintf("duplicate of node[%d] %q", j, n.ID)}
		}
		seen[n.ID] = i
	}
	for i, e := range s.Edges {
		where := fmt.Sprintf("edge[%d]", i)
		switch {
		case e.From == "":
			return &ValidationError{s.Source, where, "from", "empty"}
		case e.To == "":
			return &ValidationError{s.Source, where, "to", "empty"}
		case !e.Kind.Valid():
			return &ValidationError{s.Source, where, "kind", fmt.Sprintf("unknown edge kind %q", e.Kind)}
		case e.Privilege.Rank() < 0:
			return &ValidationError{s.Source, where, "privilege", fmt.Sprintf("unknown privilege %q", e.Privilege)}
		}
	}
	return nil
}

// Normalize sorts nodes and edges and drops exact duplicate edges, so that
// two loads of the same input compare equal.
func (s *Subgraph) Normalize() {
	sort.Slice(s.Nodes, func(i, j int) bool { return s.Nodes[i].ID < s.Nodes[j].ID })
	// Keys are built once, not in every comparison: at a million edges
	// the comparisons dominate a load.
	type keyed struct {
		key string
		e   Edge
	}
	ks := make([]keyed, len(s.Edges))
	for i, e := range s.Edges {
		ks[i] = keyed{e.Key(), e}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := s.Edges[:0]
	for i, k := range ks {
		if i > 0 && k.key == ks[i-1].key {
			continue
		}
		out = append(out, k.e)
	}
	s.Edges = out
}
