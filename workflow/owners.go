package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/graph/derive/ownership"
)

// OverrideStore keeps owner corrections; *ownership.Store is one.
type OverrideStore interface {
	List() ([]ownership.Override, error)
	Set(o ownership.Override) error
	Delete(identity string) (bool, error)
}

var _ OverrideStore = (*ownership.Store)(nil)

// Reloader rebuilds the graph index, re-running the derivation that
// applies owner corrections; *inventory.Inventory is one.
type Reloader interface {
	Reload(ctx context.Context) error
}

// Sentinel errors of owner corrections.
var (
	ErrUnknownIdentity  = errors.New("no such identity in the graph")
	ErrOverrideNotFound = errors.New("no owner correction for this identity")
)

// OwnersOptions configure an Owners.
type OwnersOptions struct {
	Store    OverrideStore
	Reloader Reloader
	Graph    IndexSource
	Audit    Auditor
	Clock    approval.Clock // default: the system clock
	Logger   *slog.Logger
}

// Owners applies analysts' owner corrections: it writes the overrides
// file the index derivation reads, then rebuilds the index so the next
// question and the next proposal see the new owner.
type Owners struct {
	o   OwnersOptions
	log *slog.Logger
}

// NewOwners checks o and returns an Owners.
func NewOwners(o OwnersOptions) (*Owners, error) {
	if o.Store == nil || o.Reloader == nil || o.Graph == nil || o.Audit == nil {
		return nil, errors.New("workflow: new owners: store, reloader, graph and audit are required")
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Owners{o: o, log: o.Logger.With("component", "owners")}, nil
}

// List returns every correction.
func (w *Owners) List() ([]ownership.Override, error) { return w.o.Store.List() }

// Set makes email the owner of identity (a node id of the current graph
// that can be owned), recording who and why, then reloads the index. The
// change is audited before it is written. A failed reload leaves the
// correction saved (it applies at the next rebuild) and returns the
// error; repeating the request is safe.
func (w *Owners) Set(ctx context.Context, identity, email, reason string, by approval.Actor) (*ownership.Override, error) {
	rec := audit.Record{Actor: by.ID, Action: ActionOwnerSet, Target: identity, Where: by.Where}
	if err := w.checkIdentity(identity); err != nil {
		return nil, w.refuse(ctx, rec, err)
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || a.Name != "" {
		return nil, w.refuse(ctx, rec, &InputError{Field: "owner_email", Msg: fmt.Sprintf("%q is not an e-mail address", email)})
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, w.refuse(ctx, rec, &InputError{Field: "reason", Msg: "required: say why this person owns it"})
	}
	o := ownership.Override{Identity: identity, OwnerEmail: email, SetBy: by.ID, SetAt: w.o.Clock.Now().UTC(), Reason: reason}
	if err := o.Validate(); err != nil {
		return nil, w.refuse(ctx, rec, &InputError{Msg: err.Error()})
	}
	rec.Outcome = "owner set to " + email
	rec.Details = map[string]string{"owner_email": email, "reason": reason}
	if _, err := w.o.Audit.Append(ctx, rec); err != nil {
		if errors.Is(err, audit.ErrSecretValue) {
			// The log refuses secret-shaped values, so the correction
			// cannot be recorded and is not made.
			return nil, w.refuse(ctx, audit.Record{Actor: rec.Actor, Action: rec.Action, Target: rec.Target, Where: rec.Where},
				&InputError{Field: "reason", Msg: "looks like it holds a secret value; refused"})
		}
		return nil, fmt.Errorf("workflow: set owner of %s: audit: %w", identity, err)
	}
	if err := w.o.Store.Set(o); err != nil {
		commitFailed(ctx, w.o.Audit, w.log, rec, err)
		return nil, fmt.Errorf("workflow: set owner of %s: %w", identity, err)
	}
	if err := w.o.Reloader.Reload(ctx); err != nil {
		return nil, fmt.Errorf("workflow: set owner of %s: saved, but the index was not rebuilt: %w", identity, err)
	}
	return &o, nil
}

// Delete removes the correction of identity and reloads the index, so
// the inferred owners apply again.
func (w *Owners) Delete(ctx context.Context, identity string, by approval.Actor) error {
	rec := audit.Record{Actor: by.ID, Action: ActionOwnerUnset, Target: identity, Where: by.Where}
	list, err := w.o.Store.List()
	if err != nil {
		return fmt.Errorf("workflow: unset owner of %s: %w", identity, err)
	}
	found := false
	for _, o := range list {
		found = found || o.Identity == identity
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrOverrideNotFound, identity)
	}
	rec.Outcome = "correction removed"
	if _, err := w.o.Audit.Append(ctx, rec); err != nil {
		return fmt.Errorf("workflow: unset owner of %s: audit: %w", identity, err)
	}
	if _, err := w.o.Store.Delete(identity); err != nil {
		commitFailed(ctx, w.o.Audit, w.log, rec, err)
		return fmt.Errorf("workflow: unset owner of %s: %w", identity, err)
	}
	if err := w.o.Reloader.Reload(ctx); err != nil {
		return fmt.Errorf("workflow: unset owner of %s: removed, but the index was not rebuilt: %w", identity, err)
	}
	return nil
}

// checkIdentity refuses an id the graph does not have (a typo would
// otherwise be saved and never apply) or a node nobody owns (a group, a
// resource).
func (w *Owners) checkIdentity(id string) error {
	ix := w.o.Graph.Index()
	if ix == nil {
		return fmt.Errorf("%w: no graph is loaded", ErrUnknownIdentity)
	}
	i, ok := ix.Lookup(id)
	if !ok {
		return fmt.Errorf("%w: %s (give the node id)", ErrUnknownIdentity, id)
	}
	if k := ix.NodeKind(i); !k.IsIdentity() && k != graph.KindCredential {
		return &InputError{Field: "identity", Msg: fmt.Sprintf("%s is a %s; owners are set on identities and credentials", id, k)}
	}
	return nil
}

// refuse audits a refused request and returns err; the refusal stands
// even if the audit append fails (that is logged).
func (w *Owners) refuse(ctx context.Context, rec audit.Record, err error) error {
	rec.Outcome = "refused: " + err.Error()
	if _, aerr := w.o.Audit.Append(ctx, rec); aerr != nil {
		w.log.Error("audit of a refused request failed", "err", aerr, "action", rec.Action, "target", rec.Target)
	}
	return err
}
