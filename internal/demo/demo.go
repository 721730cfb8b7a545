package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/secret"
)

// Reference is the fixed reference time of the demo; with --demo, "now"
// defaults to it. Every generated time lies within two years before it,
// except expiry dates, which may lie after it.
var Reference = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// Config selects one demo company.
type Config struct {
	// Seed selects the company: the same Config always yields the same
	// graph.
	Seed int64
	// Size is the number of non-human identity principals (nodes of kind
	// service_account, oauth_app, bot, ai_agent and workload). The count is
	// exact for Size >= MinSize; smaller values are raised to MinSize and
	// zero or negative means DefaultSize. Credentials, humans, groups,
	// roles, policies and resources come on top of it, and so do each AWS
	// account's IAM roles (service accounts of subtype iam_role, 88 per
	// account), which are identities but the account's fixed structure.
	Size int
}

// Size bounds.
const (
	DefaultSize = 1000
	// MinSize leaves room for the named identities every demo contains
	// (ci-deployer, terraform, ai-support-agent, ...).
	MinSize = 100
)

// Rates are the target fractions the generator mixes in. Each identity's
// fate is drawn independently, so the measured fraction of a generated
// graph is close to, not equal to, the target.
//
//   - Idle30: of identities, no recorded use in the last 30 days and created
//     more than 30 days ago (never used counts). About 40% of the idle ones
//     were never used at all.
//   - Admin: of identities, admin privilege reachable through member_of,
//     can_assume and attached policies.
//   - NoOwner: of identities, no owns edge.
//   - OwnerDeparted: of identities, owned only by humans who have left.
//   - Expiring30: of credentials that carry an expiry date, the share
//     expiring within 30 days after Reference (another ~6% have already
//     expired).
//   - Leaked: of credentials that carry a fingerprint (AWS access keys, GCP
//     service-account keys, GitHub PATs, Okta API tokens), the share whose
//     fingerprint a gitleaks finding also carries.
//   - OverPrivileged: of identities, admin privilege while every recorded
//     use is a read action.
var Rates = struct {
	Idle30, Admin, NoOwner, OwnerDeparted, Expiring30, Leaked, OverPrivileged float64
}{
	Idle30:         0.25,
	Admin:          0.06,
	NoOwner:        0.30,
	OwnerDeparted:  0.08,
	Expiring30:     0.12,
	Leaked:         0.02,
	OverPrivileged: 0.03,
}

// SoDEvery: one AWS CI user in SoDEvery (deploy role, non-admin) also
// holds a release-approval, secrets-and-logs or user-and-role policy, in
// turn: a separation-of-duties violation planted at a known rate.
const SoDEvery = 6

// expiredRate is the share of expiring credentials already past their
// expiry date at Reference.
const expiredRate = 0.06

// neverUsedShare is the share of idle identities that were never used.
const neverUsedShare = 0.4

const day = 24 * time.Hour

// Generate returns every subgraph of the demo company, each normalized.
// Equal configs give byte-identical subgraphs. Edge attribute maps may be
// shared between edges: treat the result as read-only.
func Generate(cfg Config) []*graph.Subgraph {
	var out []*graph.Subgraph
	// The callback never fails, so neither does Stream.
	_ = Stream(cfg, func(sg *graph.Subgraph) error {
		out = append(out, sg)
		return nil
	})
	return out
}

// Stream emits the same subgraphs as Generate, one source at a time, so
// that a million-identity company never has to be held in memory at once:
// it holds the source being built plus the "ownership" and
// "gitleaks:demo" subgraphs, emitted last, which grow with the whole
// company. At Size 1M that peaks near 1 GB. fn may keep the subgraphs it is given; edge
// attribute maps may be shared between edges and between subgraphs, so
// treat them as read-only. An error from fn stops the stream and is
// returned.
func Stream(cfg Config, fn func(*graph.Subgraph) error) error {
	return StreamCounted(cfg, func(sg *graph.Subgraph, _, _ int) error { return fn(sg) })
}

// StreamCounted is Stream that also tells fn which subgraph of how many
// it is given (i from 0 to n-1), for progress on long generations.
func StreamCounted(cfg Config, fn func(sg *graph.Subgraph, i, n int) error) error {
	w := newWorld(cfg)
	plan := w.plan()
	n, i := len(plan)+3, 0
	emit := func(sg *graph.Subgraph) error {
		normalize(sg)
		if err := fn(sg, i, n); err != nil {
			return fmt.Errorf("demo: emit source %q: %w", sg.Source, err)
		}
		i++
		return nil
	}
	if err := emit(w.hr()); err != nil {
		return err
	}
	for _, gen := range plan {
		if err := emit(gen()); err != nil {
			return err
		}
	}
	if err := emit(w.own); err != nil {
		return err
	}
	return emit(w.gitleaks())
}

// family is a kind of identity the company has, each realized by one
// source type.
type family int

const (
	famAWSUser family = iota
	famAWSWorkload
	famGCP
	famEntra
	famAI
	famK8s
	famGHApp
	famGHBot
	famGHDeployKey
	famOktaApp
	famOktaSvc
	famLDAP
	famPG
	numFamilies
)

// familyShare is each family's share of Size. Kubernetes absorbs rounding.
var familyShare = [numFamilies]float64{
	famAWSUser: 0.12, famAWSWorkload: 0.06, famGCP: 0.14, famEntra: 0.11, famAI: 0.01,
	famK8s: 0.26, famGHApp: 0.03, famGHBot: 0.02, famGHDeployKey: 0.02,
	famOktaApp: 0.03, famOktaSvc: 0.02, famLDAP: 0.10, famPG: 0.08,
}

// adminCapable is the share of identities whose source can make them
// admin; GitHub deploy keys cannot. Drawing admin with Rates.Admin /
// adminCapable keeps the overall rate on target.
var adminCapable = 1 - familyShare[famGHDeployKey]

type ownerState uint8

const (
	ownPresent ownerState = iota
	ownNone
	ownDeparted
)

// profile is the fate drawn for one identity before its source realizes
// it as nodes and edges.
type profile struct {
	team     string
	created  time.Time
	lastUse  time.Time // zero: never used
	admin    bool
	overPriv bool // admin, and every recorded use is a read
	owner    ownerState
}

// world is the state shared by the sources of one generation.
type world struct {
	cfg    Config
	size   int
	counts [numFamilies]int
	people people
	repos  []string // GitHub repository names, without the "acme/" owner
	own    *graph.Subgraph
	leaks  []leak
	// attrs interns edge attribute maps ("via", used-edge facts, owns
	// reasons) so that millions of edges share a few hundred maps.
	attrs map[string]map[string]string
}

func newWorld(cfg Config) *world {
	size := cfg.Size
	switch {
	case size <= 0:
		size = DefaultSize
	case size < MinSize:
		size = MinSize
	}
	w := &world{cfg: cfg, size: size, own: &graph.Subgraph{Source: "ownership", Edges: make([]graph.Edge, 0, size*4/5)},
		attrs: map[string]map[string]string{}}
	total := 0
	for f := range numFamilies {
		w.counts[f] = int(float64(size) * familyShare[f])
		total += w.counts[f]
	}
	w.counts[famK8s] += size - total
	w.people = newPeople(w.rng("hr"), max(20, size/10))
	nRepos := len(apps) + size/100
	for k := range nRepos {
		name, _ := appAt(k)
		w.repos = append(w.repos, name)
	}
	w.repos = append(w.repos, "infrastructure", "terraform-modules", "dotfiles", "docs")
	return w
}

// rng returns the random stream of one source: derived from the seed and
// the source name, so a source's content does not depend on the order in
// which the others are generated.
func (w *world) rng(source string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(source))
	return rand.New(rand.NewPCG(uint64(w.cfg.Seed), h.Sum64()))
}

// interned returns a shared attribute map holding kv pairs.
func (w *world) interned(kv ...string) map[string]string {
	key := ""
	for _, s := range kv {
		key += s + "\x00"
	}
	if m, ok := w.attrs[key]; ok {
		return m
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	w.attrs[key] = m
	return m
}

// via is the shared attrs map {"via": s}.
func (w *world) via(s string) map[string]string { return w.interned(graph.AttrVia, s) }

// split is the share of n that scope s of scopes gets.
func split(n, scopes, s int) int {
	c := n / scopes
	if s < n%scopes {
		c++
	}
	return c
}

// scopesFor is how many accounts/projects/clusters a family of n
// identities spreads over: at least min, and at most perScope each.
func scopesFor(n, minScopes, perScope int) int { return max(minScopes, (n+perScope-1)/perScope) }

// emitter builds one source's subgraph.
type emitter struct {
	w   *world
	sg  *graph.Subgraph
	rng *rand.Rand
	ips []string // the source's few client addresses, for used edges
	uas []string
	// account is the node id of the source's account, project, tenant,
	// cluster, organization, directory or database; every identity gets
	// an in_account edge to it.
	account string
}

func (w *world) newEmitter(source string, userAgents ...string) *emitter {
	e := &emitter{w: w, sg: &graph.Subgraph{Source: source}, rng: w.rng(source), uas: userAgents}
	for range 6 {
		e.ips = append(e.ips, fmt.Sprintf("10.%d.%d.%d", e.rng.IntN(256), e.rng.IntN(256), 1+e.rng.IntN(254)))
	}
	return e
}

// reserve sizes the subgraph for n identities, saving the repeated
// copies of growing slices of large structs.
func (e *emitter) reserve(n int) {
	e.sg.Nodes = slices.Grow(e.sg.Nodes, 2*n+64)
	e.sg.Edges = slices.Grow(e.sg.Edges, 5*n+256)
}

func (e *emitter) node(n graph.Node) {
	e.sg.AddNode(n)
	if n.Kind.IsIdentity() && e.account != "" {
		e.edge(n.ID, e.account, graph.EdgeInAccount)
	}
}

// accountNode adds the source's account node and makes it the target of
// identities' in_account edges.
func (e *emitter) accountNode(n graph.Node) {
	n.Kind = graph.KindAccount
	e.node(n)
	e.account = n.ID
}

func (e *emitter) edge(from, to string, kind graph.EdgeKind) {
	e.sg.AddEdge(graph.Edge{From: from, To: to, Kind: kind})
}

// grant adds an allow grant with an explicit privilege.
func (e *emitter) grant(from, to, action, resource string, priv graph.Privilege, via string) {
	ed := graph.Edge{From: from, To: to, Kind: graph.EdgeGrants, Action: action, Resource: resource,
		Effect: graph.EffectAllow, Privilege: priv}
	if via != "" {
		ed.Attrs = e.w.via(via)
	}
	e.sg.AddEdge(ed)
}

func (e *emitter) viaEdge(from, to string, kind graph.EdgeKind, via string, conditional bool) {
	e.sg.AddEdge(graph.Edge{From: from, To: to, Kind: kind, Conditional: conditional, Attrs: e.w.via(via)})
}

// bind adds a member_of edge whose via names one binding; unlike viaEdge
// it does not intern the map, as binding names are unique.
func (e *emitter) bind(from, to, via string) {
	e.sg.AddEdge(graph.Edge{From: from, To: to, Kind: graph.EdgeMemberOf, Attrs: map[string]string{graph.AttrVia: via}})
}

func (e *emitter) chance(p float64) bool { return e.rng.Float64() < p }

// between is a uniform time in [a, b], to the second.
func (e *emitter) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a.Truncate(time.Second)
	}
	return a.Add(time.Duration(e.rng.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
}

// draw decides one identity's fate. The created and last-use windows keep
// a day clear of the 30-day boundary so that idleness does not depend on
// rounding.
func (e *emitter) draw(team string, canAdmin bool) profile {
	p := profile{team: team}
	if canAdmin && e.chance(Rates.Admin/adminCapable) {
		p.admin = true
		p.overPriv = e.chance(Rates.OverPrivileged / Rates.Admin)
	}
	switch u := e.rng.Float64(); {
	case u < Rates.NoOwner:
		p.owner = ownNone
	case u < Rates.NoOwner+Rates.OwnerDeparted:
		p.owner = ownDeparted
	}
	oldest := Reference.Add(-730 * day)
	if e.chance(Rates.Idle30) {
		p.created = e.between(oldest, Reference.Add(-45*day))
		if p.overPriv || !e.chance(neverUsedShare) {
			p.lastUse = e.between(p.created, Reference.Add(-31*day))
		}
		return p
	}
	p.created = e.between(oldest, Reference.Add(-2*day))
	p.lastUse = e.between(maxTime(p.created, Reference.Add(-29*day)), Reference.Add(-time.Hour))
	return p
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// fixed is the profile of a named identity whose story the demo tells.
func fixed(team string, createdDaysAgo, lastUseDaysAgo int, admin bool, owner ownerState) profile {
	p := profile{team: team, admin: admin, owner: owner,
		created: Reference.Add(-time.Duration(createdDaysAgo) * day)}
	if lastUseDaysAgo >= 0 {
		p.lastUse = Reference.Add(-time.Duration(lastUseDaysAgo)*day - 2*time.Hour)
	}
	return p
}

// own records the owners of an identity in the ownership subgraph. When
// tagKey is set, some owners are known from a tag on the identity; the tag
// then names the same person the owns edge does. When createdEvent is set,
// the source's audit log names the creator: an owner inferred from it has
// a matching created_by edge in the source, so owner inference run on the
// demo finds the same people the ownership subgraph names.
func (e *emitter) own(n *graph.Node, p profile, tagKey, createdEvent string) {
	if p.owner == ownNone {
		return
	}
	ps := &e.w.people
	var owners []int
	if p.owner == ownPresent {
		owners = append(owners, ps.pick(e.rng, p.team, false))
		if e.chance(0.1) {
			owners = append(owners, ps.pick(e.rng, p.team, true))
		}
	} else {
		owners = append(owners, ps.pick(e.rng, p.team, true))
	}
	byTag := tagKey != "" && e.chance(0.6)
	for i, h := range owners {
		attrs := e.w.interned(graph.AttrReason, "created_by", graph.AttrConfidence, "0.7")
		if byTag && i == 0 {
			attrs = e.w.interned(graph.AttrReason, "tag owner", graph.AttrConfidence, "0.9")
			if n.Tags == nil {
				n.Tags = map[string]string{}
			}
			n.Tags[tagKey] = ps.list[h].email
		} else if i == 0 && createdEvent != "" {
			e.sg.AddEdge(graph.Edge{From: n.ID, To: ps.list[h].id, Kind: graph.EdgeCreatedBy,
				Attrs: e.w.interned("event", createdEvent)})
		}
		e.w.own.AddEdge(graph.Edge{From: ps.list[h].id, To: n.ID, Kind: graph.EdgeOwns, Attrs: attrs})
	}
}

// actions are a source's API actions, split by whether they only read.
type actions struct{ read, write []string }

// used records recent use of targets by from, the identity or the
// credential that authenticated. The first edge carries p.lastUse; an
// admin that is not over-privileged uses a write action there, an
// over-privileged one only reads.
func (e *emitter) used(from string, p profile, acts actions, targets ...string) {
	if p.lastUse.IsZero() || len(targets) == 0 {
		return
	}
	k := 1 + e.rng.IntN(min(3, len(targets)))
	start := e.rng.IntN(len(targets))
	for i := range k {
		seen := p.lastUse
		if i > 0 {
			seen = e.between(maxTime(p.created, p.lastUse.Add(-90*day)), p.lastUse)
		}
		var act string
		switch {
		case p.overPriv:
			act = acts.read[e.rng.IntN(len(acts.read))]
		case p.admin && i == 0, e.chance(0.4):
			act = acts.write[e.rng.IntN(len(acts.write))]
		default:
			act = acts.read[e.rng.IntN(len(acts.read))]
		}
		ua := ""
		if len(e.uas) > 0 {
			ua = e.uas[e.rng.IntN(len(e.uas))]
		}
		attrs := e.w.interned(graph.AttrUsedAction, act, graph.AttrSourceIP, e.ips[e.rng.IntN(len(e.ips))],
			graph.AttrUserAgent, ua)
		e.sg.AddEdge(graph.Edge{From: from, To: targets[(start+i)%len(targets)], Kind: graph.EdgeUsed,
			LastSeen: seen, Attrs: attrs})
	}
}

// credTimes places a credential in its holder's life. The primary
// credential is the one the holder's last use went through.
func (e *emitter) credTimes(p profile, primary bool) (created, lastUsed time.Time) {
	if primary && !p.lastUse.IsZero() {
		return e.between(p.created, p.lastUse), p.lastUse
	}
	created = e.between(p.created, Reference.Add(-time.Hour))
	if !p.lastUse.IsZero() && created.Before(p.lastUse) && e.chance(0.5) {
		lastUsed = e.between(created, p.lastUse)
	}
	return created, lastUsed
}

// expiry sets an expiry date on a credential whose source has one.
func (e *emitter) expiry(n *graph.Node) {
	switch u := e.rng.Float64(); {
	case u < Rates.Expiring30:
		n.ExpiresAt = e.between(Reference.Add(time.Hour), Reference.Add(30*day-time.Hour))
	case u < Rates.Expiring30+expiredRate:
		n.ExpiresAt = e.between(maxTime(n.CreatedAt, Reference.Add(-180*day)), Reference.Add(-time.Hour))
	default:
		n.ExpiresAt = e.between(Reference.Add(31*day), maxTime(n.CreatedAt.Add(730*day), Reference.Add(60*day)))
	}
}

// token draws a fake credential id: prefix then n characters of alphabet.
// It is never emitted; only its mask and fingerprint are.
func (e *emitter) token(prefix string, n int, alphabet string) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = alphabet[e.rng.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	upper32  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerHex = "0123456789abcdef"
)

// fingerprint is the hex SHA-256 of a credential id, the join key with
// secret-scanner findings.
func fingerprint(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:])
}

// secretCred fills the masked id and fingerprint of n from a fresh fake
// id and, for an active credential, leaks it at the Leaked rate.
func (e *emitter) secretCred(n *graph.Node, id, rule string, forceLeak bool) {
	fp := fingerprint(id)
	if n.Attrs == nil {
		n.Attrs = make(map[string]string, 3)
	}
	n.Attrs[graph.AttrKeyIDMasked] = secret.Mask(id)
	n.Attrs[graph.AttrFingerprint] = fp
	if n.Status == graph.StatusDisabled {
		return
	}
	if forceLeak || e.chance(Rates.Leaked) {
		e.w.leaks = append(e.w.leaks, leak{fingerprint: fp, masked: secret.Mask(id), subtype: n.Subtype, rule: rule, created: n.CreatedAt})
	}
}

// guid draws a random GUID-shaped id (object ids, app ids: public, not
// secret).
func (e *emitter) guid() string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", e.rng.Uint32(), e.rng.Uint32()&0xffff,
		0x4000|e.rng.Uint32()&0x0fff, 0x8000|e.rng.Uint32()&0x3fff, e.rng.Uint64()&0xffffffffffff)
}

func itoa(i int) string { return strconv.Itoa(i) }
