// Package changes tracks what changed between syncs: each sync's graph is
// reduced to a snapshot of its identities (privilege, escalation paths,
// credentials, owner state, direct grants), compared with the previous
// snapshot, and the differences are appended to a history that
// `steward changes` reads. Changes that match the alert rules (default:
// new admin, new escalation path, new long-lived key on an admin, owner
// departed) are posted once to a configured Slack channel.
package changes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/findings/escalation"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Change types.
const (
	IdentityAdded     = "identity_added"
	IdentityRemoved   = "identity_removed"
	NewAdmin          = "new_admin"
	NewEscalationPath = "new_escalation_path"
	NewCredential     = "new_credential"
	NewLongLivedKey   = "new_long_lived_admin_key" // a credential without expiry (or over a year) on an admin
	OwnerLost         = "owner_lost"               // had an active owner, now has none
	OwnerDeparted     = "owner_departed"           // every owner has left
	GrantAdded        = "grant_added"
)

// Types lists every change type, for validating alert rules. Change
// plans (query.Changes) name them too: query.ChangeTypes is the same
// list (query cannot import this package; a test keeps them equal).
var Types = []string{IdentityAdded, IdentityRemoved, NewAdmin, NewEscalationPath, NewCredential, NewLongLivedKey,
	OwnerLost, OwnerDeparted, GrantAdded}

// DefaultAlerts are the change types alerted on when none are configured.
var DefaultAlerts = []string{NewAdmin, NewEscalationPath, NewLongLivedKey, OwnerDeparted}

// Change is one difference between two syncs. Its JSON is a contract:
// fields are only added.
type Change struct {
	At       time.Time `json:"at"`
	Source   string    `json:"source"`
	Type     string    `json:"type"`
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Detail   string    `json:"detail,omitempty"`
}

// Snapshot is what one sync's graph says about its identities.
type Snapshot struct {
	At         time.Time         `json:"at"`
	Identities map[string]*Ident `json:"identities"`
}

// Ident is one identity in a snapshot.
type Ident struct {
	Source      string          `json:"source"`
	Name        string          `json:"name"`
	Admin       bool            `json:"admin,omitempty"`
	Escalation  []string        `json:"escalation,omitempty"`
	Credentials map[string]Cred `json:"credentials,omitempty"`
	OwnerStatus string          `json:"owner_status,omitempty"`
	Grants      []string        `json:"grants,omitempty"`
}

// Cred is one credential an identity holds.
type Cred struct {
	Subtype   string    `json:"subtype,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// longLived: a credential with no expiry, or one more than a year after
// its creation.
func (c Cred) longLived() bool {
	return c.ExpiresAt.IsZero() || (!c.CreatedAt.IsZero() && c.ExpiresAt.Sub(c.CreatedAt) > 366*24*time.Hour)
}

// Take reduces ix to a snapshot. Scanner findings are not identities.
func Take(ix *graph.Index, at time.Time) *Snapshot {
	esc := escalation.Of(ix)
	s := &Snapshot{At: at.UTC(), Identities: map[string]*Ident{}}
	for i := range int32(ix.NumNodes()) {
		n := ix.Node(i)
		if !n.Kind.IsIdentity() || query.IsFinding(&n) {
			continue
		}
		p, _ := ix.Privilege(int32(i))
		_, ost := ix.Owners(int32(i))
		id := &Ident{Source: n.Source, Name: n.Name, Admin: p == graph.PrivAdmin, OwnerStatus: string(ost)}
		for _, path := range esc.Paths(int32(i)) {
			id.Escalation = append(id.Escalation, path.Class)
		}
		for _, e := range ix.Out(int32(i)) {
			ed := ix.Edge(e)
			switch ed.Kind {
			case graph.EdgeHasCredential:
				if c, ok := ix.Lookup(ed.To); ok && ix.NodeStatus(c) != graph.StatusDisabled {
					if id.Credentials == nil {
						id.Credentials = map[string]Cred{}
					}
					cn := ix.Node(c)
					id.Credentials[cn.ID] = Cred{Subtype: cn.Subtype, ExpiresAt: cn.ExpiresAt, CreatedAt: cn.CreatedAt}
				}
			case graph.EdgeGrants:
				id.Grants = append(id.Grants, grantKey(ed))
			case graph.EdgeMemberOf, graph.EdgeCanAssume:
				id.Grants = append(id.Grants, string(ed.Kind)+" "+ed.To)
			}
		}
		for _, e := range ix.In(int32(i)) {
			if ed := ix.Edge(e); ed.Kind == graph.EdgeAttachedTo {
				id.Grants = append(id.Grants, "policy "+ed.From)
			}
		}
		sort.Strings(id.Grants)
		s.Identities[n.ID] = id
	}
	return s
}

func grantKey(ed *graph.Edge) string {
	k := ed.Effect + " " + ed.Action + " on " + ed.Resource
	return strings.TrimSpace(k)
}

// Diff lists what changed from prev to cur, by source, identity and type.
func Diff(prev, cur *Snapshot) []Change {
	var out []Change
	add := func(id string, in *Ident, typ, detail string) {
		out = append(out, Change{At: cur.At, Source: in.Source, Type: typ, Identity: id, Name: in.Name, Detail: detail})
	}
	for id, c := range cur.Identities {
		p, ok := prev.Identities[id]
		if !ok {
			add(id, c, IdentityAdded, "")
			p = &Ident{}
		}
		if c.Admin && !p.Admin {
			add(id, c, NewAdmin, "")
		}
		for _, cl := range c.Escalation {
			if !slices.Contains(p.Escalation, cl) {
				add(id, c, NewEscalationPath, cl)
			}
		}
		for cid, cr := range c.Credentials {
			if _, had := p.Credentials[cid]; had {
				continue
			}
			add(id, c, NewCredential, cid)
			if c.Admin && cr.longLived() {
				add(id, c, NewLongLivedKey, cid)
			}
		}
		if ok {
			switch {
			case c.OwnerStatus == string(graph.OwnerDeparted) && p.OwnerStatus != string(graph.OwnerDeparted):
				add(id, c, OwnerDeparted, "")
			case c.OwnerStatus == string(graph.OwnerAbsent) && p.OwnerStatus == string(graph.OwnerPresent):
				add(id, c, OwnerLost, "")
			}
			for _, g := range c.Grants {
				if !slices.Contains(p.Grants, g) {
					add(id, c, GrantAdded, g)
				}
			}
		}
	}
	for id, p := range prev.Identities {
		if _, ok := cur.Identities[id]; !ok {
			out = append(out, Change{At: cur.At, Source: p.Source, Type: IdentityRemoved, Identity: id, Name: p.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Identity != b.Identity {
			return a.Identity < b.Identity
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Detail < b.Detail
	})
	return out
}

// Notifier posts an alert message to a channel (the Slack bot).
type Notifier interface {
	Alert(ctx context.Context, channel, text string) error
}

// Tracker keeps the last snapshot and the change history in a directory:
// snapshot.json and history.jsonl.
type Tracker struct {
	Dir string
	// Channel and Notifier receive alerts; no channel, no alerts.
	Channel  string
	Notifier Notifier
	// AlertOn lists the change types alerted on; nil means DefaultAlerts.
	AlertOn []string

	mu sync.Mutex
}

// ValidateAlerts checks alert rule names.
func ValidateAlerts(types []string) error {
	for _, t := range types {
		if !slices.Contains(Types, t) {
			return fmt.Errorf("changes: unknown alert type %q (known: %s)", t, strings.Join(Types, ", "))
		}
	}
	return nil
}

// Record compares ix with the previous sync's snapshot, appends the
// differences to the history, keeps ix's snapshot for next time and alerts
// on the matching changes. The first sync only sets the baseline.
func (t *Tracker) Record(ctx context.Context, ix *graph.Index, at time.Time) ([]Change, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := os.MkdirAll(t.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	cur := Take(ix, at)
	prev, err := t.loadSnapshot()
	if err != nil {
		return nil, err
	}
	var diff []Change
	if prev != nil {
		diff = Diff(prev, cur)
		if err := t.appendHistory(diff); err != nil {
			return nil, err
		}
	}
	if err := t.saveSnapshot(cur); err != nil {
		return nil, err
	}
	if err := t.appendSync(Sync{At: cur.At, Changes: len(diff), Baseline: prev == nil}); err != nil {
		return nil, err
	}
	if err := t.alert(ctx, diff); err != nil {
		return diff, err
	}
	return diff, nil
}

func (t *Tracker) alert(ctx context.Context, diff []Change) error {
	if t.Channel == "" || t.Notifier == nil {
		return nil
	}
	rules := t.AlertOn
	if rules == nil {
		rules = DefaultAlerts
	}
	var lines []string
	for _, c := range diff {
		if slices.Contains(rules, c.Type) {
			l := fmt.Sprintf("• %s: %s (%s)", c.Type, c.Name, c.Identity)
			if c.Detail != "" {
				l += " — " + c.Detail
			}
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	// Names and credential ids are data from the sources: a connector
	// that let a raw key id through must not carry it into Slack.
	text := audit.MaskSecrets(fmt.Sprintf("Steward: %d change(s) since the last sync need attention\n%s", len(lines), strings.Join(lines, "\n")))
	if err := t.Notifier.Alert(ctx, t.Channel, text); err != nil {
		return fmt.Errorf("changes: alert %s: %w", t.Channel, err)
	}
	return nil
}

func (t *Tracker) loadSnapshot() (*Snapshot, error) {
	b, err := os.ReadFile(filepath.Join(t.Dir, "snapshot.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("changes: %s: %w", filepath.Join(t.Dir, "snapshot.json"), err)
	}
	return &s, nil
}

// saveSnapshot writes atomically, so a crash keeps the previous one.
func (t *Tracker) saveSnapshot(s *Snapshot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	tmp := filepath.Join(t.Dir, ".snapshot.json.tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(t.Dir, "snapshot.json")); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	return nil
}

func (t *Tracker) appendHistory(cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, c := range cs {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
	}
	f, err := os.OpenFile(filepath.Join(t.Dir, "history.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("changes: %w", err)
	}
	return f.Close()
}

// History returns the recorded changes at or after since, oldest first.
func History(dir string, since time.Time) ([]Change, error) {
	path := filepath.Join(dir, "history.jsonl")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Change{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer f.Close()
	out := []Change{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var c Change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("changes: %s:%d: %w", path, line, err)
		}
		if !c.At.Before(since) {
			out = append(out, c)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("changes: %s: %w", path, err)
	}
	return out, nil
}
