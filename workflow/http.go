package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/remediation/action"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/tools"
)

// ProposalReader reads proposals and says who may decide them;
// *approval.Service is one.
type ProposalReader interface {
	Get(ctx context.Context, id string) (*approval.Proposal, error)
	List(ctx context.Context, f approval.Filter) ([]*approval.Proposal, error)
	Eligible(p *approval.Proposal) []string
}

var _ ProposalReader = (*approval.Service)(nil)

// ProposalDecider records approvals and rejections under the service's
// rules (N-of-M, no self-approval, expiry); *approval.Service is one.
type ProposalDecider interface {
	Approve(ctx context.Context, id string, by approval.Actor, reason string) (*approval.Proposal, error)
	Reject(ctx context.Context, id string, by approval.Actor, reason string) (*approval.Proposal, error)
}

var _ ProposalDecider = (*approval.Service)(nil)

// Planner is the dry run of the actuators (*actuate.Executor is one).
type Planner interface {
	Plan(ctx context.Context, a connectors.Action) ([]connectors.Step, error)
}

// APIOptions configure the HTTP routes. Planner, Policies and Owners may
// be nil: their routes then answer 503 unavailable.
type APIOptions struct {
	Proposals ProposalReader
	// Decider serves POST /v1/proposals/{id}/approve|reject; nil answers
	// 503 unavailable.
	Decider  ProposalDecider
	Planner  Planner
	Policies *PolicyRunner
	Owners   *Owners
	Logger   *slog.Logger
}

// API is the workflow's HTTP routes.
type API struct {
	o   APIOptions
	log *slog.Logger
}

// NewAPI returns the handlers; server.Config.Workflow takes
// API.Handlers (server/routes.go mounts them).
func NewAPI(o APIOptions) (*API, error) {
	if o.Proposals == nil {
		return nil, errors.New("workflow: new API: proposals is nil")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &API{o: o, log: o.Logger.With("component", "workflow-http")}, nil
}

// Handlers are the route handlers for server/routes.go, which holds the
// paths, methods and roles.
func (a *API) Handlers() *server.WorkflowHandlers {
	return &server.WorkflowHandlers{
		ListProposals: a.listProposals, GetProposal: a.getProposal, Preview: a.preview,
		Approve: a.decide(true), Reject: a.decide(false),
		ListPolicies: a.listPolicies, PutPolicy: a.putPolicy, DeletePolicy: a.deletePolicy,
		ListOwners: a.listOwners, PutOwner: a.putOwner, DeleteOwner: a.deleteOwner,
	}
}

func unavailable(what string) error {
	return server.NewProblem(http.StatusServiceUnavailable, "unavailable", what+" are not configured on this server")
}

func httpActor(c echo.Context) approval.Actor {
	return approval.Actor{ID: server.Actor(c), Where: audit.WhereHTTP}
}

// param returns a path parameter decoded once. Echo hands over the raw
// (still percent-encoded) segment when the request path needed escaping,
// which node ids with "/" always do ("aws:1:user%2Fci"), and the decoded
// one otherwise.
func param(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", server.NewProblem(http.StatusBadRequest, "bad_request", fmt.Sprintf("path parameter %s: %v", name, err))
	}
	return u, nil
}

// ProposalView is a proposal with the people who may decide it now.
type ProposalView struct {
	*approval.Proposal
	Eligible []string `json:"eligible"`
}

// ProposalList is GET /v1/proposals.
type ProposalList struct {
	Proposals []ProposalView `json:"proposals"`
}

var states = []approval.State{approval.StateProposed, approval.StateEscalated, approval.StateApproved, approval.StateExecuting,
	approval.StateDone, approval.StateFailed, approval.StateRolledBack, approval.StateRejected, approval.StateChangesRequested,
	approval.StateExpired, approval.StateCancelled}

func (a *API) listProposals(c echo.Context) error {
	var f approval.Filter
	for _, v := range c.QueryParams()["state"] {
		for _, s := range strings.Split(v, ",") {
			st := approval.State(strings.TrimSpace(s))
			if !slices.Contains(states, st) {
				names := make([]string, len(states))
				for i, s := range states {
					names[i] = string(s)
				}
				return server.NewProblem(http.StatusBadRequest, "bad_request", fmt.Sprintf("state: unknown %q (known: %s)", st, strings.Join(names, ", ")))
			}
			f.States = append(f.States, st)
		}
	}
	f.Policy = c.QueryParam("policy")
	ps, err := a.o.Proposals.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].CreatedAt.Equal(ps[j].CreatedAt) {
			return ps[i].CreatedAt.After(ps[j].CreatedAt)
		}
		return ps[i].ID < ps[j].ID
	})
	out := ProposalList{Proposals: make([]ProposalView, 0, len(ps))}
	for _, p := range ps {
		out.Proposals = append(out.Proposals, ProposalView{Proposal: p, Eligible: a.o.Proposals.Eligible(p)})
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) proposal(c echo.Context) (*approval.Proposal, error) {
	id, err := param(c, "id")
	if err != nil {
		return nil, err
	}
	p, err := a.o.Proposals.Get(c.Request().Context(), id)
	if errors.Is(err, approval.ErrNotFound) {
		return nil, server.NewProblem(http.StatusNotFound, "not_found", "no such proposal")
	}
	return p, err
}

func (a *API) getProposal(c echo.Context) error {
	p, err := a.proposal(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ProposalView{Proposal: p, Eligible: a.o.Proposals.Eligible(p)})
}

// Preview is GET /v1/proposals/{id}/preview: what each action would call.
// Complete is false when some action could not be planned; its item
// then says why.
type Preview struct {
	ProposalID string                    `json:"proposal_id"`
	State      approval.State            `json:"state"`
	Complete   bool                      `json:"complete"`
	Items      []remediation.PreviewItem `json:"items"`
}

func (a *API) preview(c echo.Context) error {
	if a.o.Planner == nil {
		return unavailable("actuators")
	}
	p, err := a.proposal(c)
	if err != nil {
		return err
	}
	rp, err := remediation.FromApproval(p)
	if err != nil {
		return err
	}
	items, err := remediation.Preview(c.Request().Context(), rp, a.o.Planner)
	if items == nil && err != nil {
		return err
	}
	for i := range items {
		items[i].Error = tools.MaskSecrets(items[i].Error)
	}
	return c.JSON(http.StatusOK, Preview{ProposalID: p.ID, State: p.State, Complete: err == nil, Items: items})
}

// PolicyView is a loaded policy as the API shows it. Durations are Go
// duration strings ("168h0m0s").
type PolicyView struct {
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	File          string            `json:"file"`
	Plan          json.RawMessage   `json:"plan"`
	Justification string            `json:"justification"`
	OnExpiry      approval.OnExpiry `json:"on_expiry"`
	Expiry        string            `json:"expiry"`
	RestartAfter  string            `json:"restart_after,omitempty"`
	Stages        []StageView       `json:"stages"`
}

// StageView is one stage of a PolicyView.
type StageView struct {
	After     string                 `json:"after,omitempty"`
	Action    action.Kind            `json:"action"`
	Params    map[string]string      `json:"params,omitempty"`
	Approvers *remediation.Approvers `json:"approvers,omitempty"`
}

func policyView(p *remediation.Policy) PolicyView {
	v := PolicyView{Name: p.Name, Description: p.Description, File: filepath.Base(p.File), Plan: p.Plan,
		Justification: p.Justification, OnExpiry: p.OnExpiry, Expiry: p.Expiry.String(), Stages: make([]StageView, 0, len(p.Stages))}
	if p.RestartAfter > 0 {
		v.RestartAfter = p.RestartAfter.String()
	}
	for _, s := range p.Stages {
		sv := StageView{Action: s.Action, Params: s.Params}
		if s.After > 0 {
			sv.After = s.After.String()
		}
		if s.Action != remediation.ActionNotifyOwner {
			ap := s.Approvers
			sv.Approvers = &ap
		}
		v.Stages = append(v.Stages, sv)
	}
	return v
}

// PolicyList is GET /v1/policies.
type PolicyList struct {
	Policies []PolicyView `json:"policies"`
}

func (a *API) listPolicies(c echo.Context) error {
	if a.o.Policies == nil {
		return unavailable("policies")
	}
	pols, err := a.o.Policies.Policies()
	if err != nil {
		return server.NewProblem(http.StatusConflict, "conflict", "the policies directory does not load: "+a.o.Policies.relative(err.Error()))
	}
	out := PolicyList{Policies: make([]PolicyView, 0, len(pols))}
	for _, p := range pols {
		out.Policies = append(out.Policies, policyView(p))
	}
	return c.JSON(http.StatusOK, out)
}

// maxPolicy bounds a policy file; the server's body limit applies too.
const maxPolicy = 256 << 10

func (a *API) putPolicy(c echo.Context) error {
	if a.o.Policies == nil {
		return unavailable("policies")
	}
	ct := strings.ToLower(c.Request().Header.Get(echo.HeaderContentType))
	if ct != "" && !strings.Contains(ct, "yaml") && !strings.HasPrefix(ct, "text/plain") {
		return server.NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the policy as application/yaml")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPolicy+1))
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // the body limit
		}
		return server.NewProblem(http.StatusBadRequest, "bad_request", "reading the body failed")
	}
	if len(body) > maxPolicy {
		return server.NewProblem(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a policy is at most %d bytes", maxPolicy))
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	res, err := a.o.Policies.PutPolicy(c.Request().Context(), name, body, httpActor(c))
	if err != nil {
		return policyError(err)
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return c.JSON(status, policyView(res.Policy))
}

func (a *API) deletePolicy(c echo.Context) error {
	if a.o.Policies == nil {
		return unavailable("policies")
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := a.o.Policies.DeletePolicy(c.Request().Context(), name, httpActor(c)); err != nil {
		return policyError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func policyError(err error) error {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return server.NewProblem(http.StatusBadRequest, "invalid_policy", ie.Error())
	case errors.Is(err, ErrPolicyNotFound):
		return server.NewProblem(http.StatusNotFound, "not_found", "no such policy")
	case errors.Is(err, ErrConflict):
		return server.NewProblem(http.StatusConflict, "conflict", err.Error())
	}
	return err
}

// OwnerList is GET /v1/owners.
type OwnerList struct {
	Overrides []ownership.Override `json:"overrides"`
}

// OwnerRequest is the body of PUT /v1/owners/{identity}.
type OwnerRequest struct {
	OwnerEmail string `json:"owner_email"`
	Reason     string `json:"reason"`
}

func (a *API) listOwners(c echo.Context) error {
	if a.o.Owners == nil {
		return unavailable("owner corrections")
	}
	list, err := a.o.Owners.List()
	if err != nil {
		return err
	}
	if list == nil {
		list = []ownership.Override{}
	}
	return c.JSON(http.StatusOK, OwnerList{Overrides: list})
}

func (a *API) putOwner(c echo.Context) error {
	if a.o.Owners == nil {
		return unavailable("owner corrections")
	}
	var req OwnerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id, err := param(c, "identity")
	if err != nil {
		return err
	}
	o, err := a.o.Owners.Set(c.Request().Context(), id, req.OwnerEmail, req.Reason, httpActor(c))
	if err != nil {
		return ownerError(err)
	}
	return c.JSON(http.StatusOK, o)
}

func (a *API) deleteOwner(c echo.Context) error {
	if a.o.Owners == nil {
		return unavailable("owner corrections")
	}
	id, err := param(c, "identity")
	if err != nil {
		return err
	}
	if err := a.o.Owners.Delete(c.Request().Context(), id, httpActor(c)); err != nil {
		return ownerError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func ownerError(err error) error {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return server.NewProblem(http.StatusBadRequest, "bad_request", ie.Error())
	case errors.Is(err, ErrUnknownIdentity):
		return server.NewProblem(http.StatusNotFound, "unknown_entity", tools.MaskSecrets(err.Error()))
	case errors.Is(err, ErrOverrideNotFound):
		return server.NewProblem(http.StatusNotFound, "not_found", tools.MaskSecrets(err.Error()))
	}
	return err
}

// decodeJSON decodes one JSON object, refusing unknown fields.
func decodeJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return server.NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			return he
		case errors.Is(err, io.EOF):
			return server.NewProblem(http.StatusBadRequest, "bad_request", "empty body")
		}
		return server.NewProblem(http.StatusBadRequest, "bad_request", "invalid JSON: "+err.Error())
	}
	if dec.More() {
		return server.NewProblem(http.StatusBadRequest, "bad_request", "invalid JSON: more than one value")
	}
	return nil
}

// DecisionRequest is the body of POST /v1/proposals/{id}/approve|reject.
type DecisionRequest struct {
	Reason string `json:"reason"`
}

// decide approves or rejects as the authenticated actor; the approval
// service's refusals (not an approver, self-approval, expired, already
// decided, no reason) come back as problems naming the rule.
func (a *API) decide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.o.Decider == nil {
			return unavailable("decisions")
		}
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		var req DecisionRequest
		if err := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10)).Decode(&req); err != nil {
			return server.NewProblem(http.StatusBadRequest, "bad_request", "body: want {\"reason\": \"...\"}")
		}
		var p *approval.Proposal
		if approve {
			p, err = a.o.Decider.Approve(c.Request().Context(), id, httpActor(c), req.Reason)
		} else {
			p, err = a.o.Decider.Reject(c.Request().Context(), id, httpActor(c), req.Reason)
		}
		if err != nil {
			return decisionError(err)
		}
		return c.JSON(http.StatusOK, ProposalView{Proposal: p, Eligible: a.o.Proposals.Eligible(p)})
	}
}

func decisionError(err error) error {
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return server.NewProblem(http.StatusNotFound, "not_found", "no such proposal")
	case errors.Is(err, approval.ErrReasonRequired):
		return server.NewProblem(http.StatusBadRequest, "reason_required", err.Error())
	case errors.Is(err, approval.ErrSelfApproval), errors.Is(err, approval.ErrNotApprover), errors.Is(err, approval.ErrDuplicateApprover):
		return server.NewProblem(http.StatusForbidden, "refused", err.Error())
	case errors.Is(err, approval.ErrExpired), errors.Is(err, approval.ErrAlreadyDecided), errors.Is(err, approval.ErrWrongState):
		return server.NewProblem(http.StatusConflict, "refused", err.Error())
	}
	return err
}
