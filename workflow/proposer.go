package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/query"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/remediation/action"
	"github.com/steward-oss/steward/tools"
)

// Approvals opens proposals and says who may decide them;
// *approval.Service is one.
type Approvals interface {
	remediation.Proposer
	Eligible(p *approval.Proposal) []string
}

var _ Approvals = (*approval.Service)(nil)

// ProposerOptions configure a Proposer.
type ProposerOptions struct {
	Approvals Approvals
	Graph     IndexSource
	// Clock must tell the approval service's time: expiry is counted
	// from it, and the service refuses a deadline that is not in its
	// future. Default: the system clock (the service's default too).
	Clock approval.Clock
	// Group is the configured approver group whose members may approve
	// alongside the targets' owners; "" leaves the owners alone.
	Group string
	// EscalateTo, when set, takes over a proposal nobody answered before
	// its deadline (with a fresh Expiry); otherwise it is cancelled.
	EscalateTo string
	// Expiry is how long approvers have (default 7 days).
	Expiry time.Duration
	// Where is the audit channel the requests come through (default
	// audit.WhereHTTP); the Slack app's agent gets its own Proposer with
	// audit.WhereSlack.
	Where string
}

// Proposer is the agent's propose_remediation back end: it turns a
// tools.ProposalRequest into a remediation proposal over a fresh snapshot
// of the targets and submits it for approval. It never executes anything.
type Proposer struct {
	o ProposerOptions
}

var _ tools.Proposer = (*Proposer)(nil)

// DefaultExpiry is how long an analyst's proposal waits for approvers when
// the configuration does not say.
const DefaultExpiry = 7 * 24 * time.Hour

// NewProposer checks o and returns a Proposer.
func NewProposer(o ProposerOptions) (*Proposer, error) {
	switch {
	case o.Approvals == nil:
		return nil, errors.New("workflow: new proposer: approvals is nil")
	case o.Graph == nil:
		return nil, errors.New("workflow: new proposer: graph is nil")
	case o.Expiry < 0:
		return nil, errors.New("workflow: new proposer: negative expiry")
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Expiry == 0 {
		o.Expiry = DefaultExpiry
	}
	if o.Where == "" {
		o.Where = audit.WhereHTTP
	}
	return &Proposer{o: o}, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Admin targets and deletions need two people; anything else one.
const (
	requiredDefault = 1
	requiredAdmin   = 2
)

// Propose records req as a proposal requested by req.Requester and returns
// its receipt. A request approval cannot accept (unknown target, nobody
// eligible to approve, an open duplicate) comes back as a *tools.Error the
// model can read and act on.
func (p *Proposer) Propose(ctx context.Context, req tools.ProposalRequest) (*tools.ProposalReceipt, error) {
	rp, err := p.build(req)
	if err != nil {
		return nil, err
	}
	by := approval.Actor{ID: req.Requester, Where: p.o.Where}
	ap, err := remediation.Submit(ctx, p.o.Approvals, rp, by)
	if err != nil {
		if errors.Is(err, approval.ErrInvalidProposal) || errors.Is(err, remediation.ErrInvalid) || errors.Is(err, approval.ErrDuplicateKey) {
			return nil, refused("", "%s", err.Error())
		}
		return nil, fmt.Errorf("workflow: propose %s: %w", req.Action, err)
	}
	return &tools.ProposalReceipt{ID: ap.ID, State: string(ap.State), Approvers: p.o.Approvals.Eligible(ap)}, nil
}

func refused(field, format string, args ...any) *tools.Error {
	return &tools.Error{Code: tools.CodeInvalidArgs, Field: field, Message: tools.MaskSecrets(fmt.Sprintf(format, args...))}
}

// build makes the remediation proposal of req without submitting it.
func (p *Proposer) build(req tools.ProposalRequest) (*remediation.Proposal, error) {
	switch {
	case strings.TrimSpace(req.Requester) == "":
		return nil, refused("requester", "required: proposals are requested by an authenticated person or key")
	case !req.Action.Known():
		return nil, refused("action", "unknown action %q (known: %s)", req.Action, strings.Join(remediation.ActionTypes, ", "))
	case strings.TrimSpace(req.Justification) == "":
		return nil, refused("justification", "required")
	case len(req.Targets) == 0:
		return nil, refused("targets", "empty")
	}
	ix := p.o.Graph.Index()
	if ix == nil {
		return nil, &tools.Error{Code: tools.CodeUnavailable, Message: "no graph is loaded"}
	}
	at := req.At
	if at.IsZero() {
		at = p.o.Clock.Now()
	}
	rp := &remediation.Proposal{Justification: strings.TrimSpace(req.Justification)}
	admin := req.Action == remediation.ActionDelete
	ids := make([]string, 0, len(req.Targets))
	for k, t := range req.Targets {
		i, ok := ix.Lookup(t.ID)
		if !ok {
			return nil, refused(fmt.Sprintf("targets[%d]", k), "%s is no longer in the graph; ask again", t.ID)
		}
		rt := snapshot(ix, i, t.Evidence, at)
		admin = admin || isAdmin(ix, i)
		rp.Targets = append(rp.Targets, rt)
		rp.Actions = append(rp.Actions, connectors.Action{Type: req.Action, Target: rt.ID, Params: maps.Clone(req.Params)})
		ids = append(ids, rt.ID)
	}
	plan := req.Plan
	if plan == nil {
		plan = &query.Plan{Version: query.Version, IDs: ids}
	}
	pj, err := json.Marshal(plan)
	if err != nil {
		return nil, fmt.Errorf("workflow: encode plan: %w", err)
	}
	rp.Plan = pj
	if err := p.approvers(rp, req.Action, admin); err != nil {
		return nil, err
	}
	return rp, nil
}

// approvers sets the rule, deadline and expiry behaviour of rp.
func (p *Proposer) approvers(rp *remediation.Proposal, action action.Kind, admin bool) error {
	now := p.o.Clock.Now().UTC()
	rp.ExpiresAt = now.Add(p.o.Expiry)
	rp.OnExpiry = approval.ExpiryCancel
	if p.o.EscalateTo != "" {
		rp.OnExpiry, rp.EscalationTTL = approval.ExpiryEscalate, p.o.Expiry
	}
	if action == remediation.ActionNotifyOwner {
		for k, t := range rp.Targets {
			if t.OwnerEmail == "" {
				return refused(fmt.Sprintf("targets[%d]", k), "%s has no active owner to notify", t.ID)
			}
		}
		no := false
		rp.Approvers = remediation.Approvers{Required: 0, Owner: &no}
		return nil
	}
	rp.Approvers = remediation.Approvers{Required: requiredDefault, Group: p.o.Group, EscalateTo: p.o.EscalateTo}
	if admin {
		rp.Approvers.Required = requiredAdmin
	}
	if p.o.Group == "" {
		// Without a group only owners approve, so a target nobody owns
		// would be changed on the word of other targets' owners.
		for k, t := range rp.Targets {
			if t.OwnerEmail == "" {
				return refused(fmt.Sprintf("targets[%d]", k), "%s has no active owner and no approver group is configured, so nobody may approve it", t.ID)
			}
		}
	}
	return nil
}
