package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/review"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/tools"
	"github.com/steward-oss/steward/workflow"
)

// DefaultApprovals is the approval store when remediation.store is unset.
const DefaultApprovals = "./steward-approvals.db"

// remediationParts are the pieces of the remediation path serve runs:
// proposals recorded by the agent, approvals, actuators (only those
// configured, with their own credentials), saved policies and the HTTP
// routes over them.
type remediationParts struct {
	approvals *approval.Service
	store     approval.Store
	proposer  *workflow.Proposer
	executor  *actuate.Executor // nil without configured actuators
	policies  *workflow.PolicyRunner
	workflow  *server.WorkflowHandlers
	reviews   *serveReviews
	changes   *changes.Tracker    // what changed between scheduled syncs (cli/changes.go)
	history   tools.ChangeHistory // what change questions read (cli/ask_changes.go)
}

func (r *remediationParts) Close() error {
	if r.reviews != nil {
		r.reviews.store.Close()
	}
	return r.store.Close()
}

func buildRemediation(ctx context.Context, cfg *config.Config, inv *inventory.Inventory, alog *audit.Log, overrides string, log *slog.Logger) (*remediationParts, error) {
	where := cfg.Remediation.Store
	if where == "" {
		where = DefaultApprovals
	}
	st, err := approval.OpenStore(ctx, where)
	if err != nil {
		return nil, fmt.Errorf("approval store: %w", err)
	}
	r := &remediationParts{store: st}
	campaigns, err := loadCampaigns(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	// Inline members of the campaigns' groups approve too, as in the CLI.
	groups := review.Groups{Base: approval.StaticGroups(cfg.Approvers), Campaigns: campaigns}
	r.approvals, err = approval.NewService(approval.Options{Store: st, Audit: alog, Groups: groups, Logger: log.With("component", "approval")})
	if err != nil {
		st.Close()
		return nil, err
	}
	r.proposer, err = workflow.NewProposer(workflow.ProposerOptions{Approvals: r.approvals, Graph: inv,
		Group: cfg.Slack.ApproverGroup, Expiry: time.Duration(cfg.Remediation.Expiry)})
	if err != nil {
		st.Close()
		return nil, err
	}
	var planner workflow.Planner
	if len(cfg.Actuators) > 0 {
		if r.executor, err = actuate.Build(cfg.Actuators, actuate.Env{ReadFile: os.ReadFile}); err != nil {
			st.Close()
			return nil, fmt.Errorf("actuators: %w", err)
		}
		planner = r.executor
	}
	apiOpts := workflow.APIOptions{Proposals: r.approvals, Decider: r.approvals, Planner: planner, Logger: log.With("component", "workflow")}
	if cfg.Remediation.PoliciesDir != "" {
		r.policies, err = workflow.NewPolicyRunner(workflow.PolicyRunnerOptions{Dir: cfg.Remediation.PoliciesDir,
			Finder: &workflow.Finder{Graph: inv}, Approvals: r.approvals, Audit: alog, Groups: groups, Logger: log})
		if err != nil {
			st.Close()
			return nil, err
		}
		apiOpts.Policies = r.policies
	}
	if overrides != "" {
		owners, err := workflow.NewOwners(workflow.OwnersOptions{Store: ownership.NewStore(overrides), Reloader: inv, Graph: inv, Audit: alog, Logger: log})
		if err != nil {
			st.Close()
			return nil, err
		}
		apiOpts.Owners = owners
	}
	api, err := workflow.NewAPI(apiOpts)
	if err != nil {
		st.Close()
		return nil, err
	}
	if r.reviews, err = buildReviews(ctx, cfg, campaigns, inv, alog, r.approvals, log.With("component", "review")); err != nil {
		st.Close()
		return nil, err
	}
	r.workflow = api.Handlers()
	return r, nil
}

// afterSync opens proposals for new policy matches and expires stale
// proposals; serve calls it after every sync pass.
func (r *remediationParts) afterSync(ctx context.Context, log *slog.Logger) {
	if _, err := r.approvals.Expire(ctx); err != nil {
		log.Warn("expiring proposals failed", "err", err)
	}
	if r.reviews != nil {
		r.reviews.tick(ctx, log)
	}
	if r.policies == nil {
		return
	}
	rep, err := r.policies.RunAfterSync(ctx, time.Now())
	if err != nil {
		log.Warn("policies not run", "err", err)
		return
	}
	log.Info("policies run", "opened", len(rep.Opened), "skipped", len(rep.Skipped))
}
