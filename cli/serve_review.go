package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/graph/inventory"
	"github.com/steward-oss/steward/review"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/slackbot"
)

// serveReviews are the access reviews serve runs: the service over its
// store, the campaign files launched on their schedule, the HTTP routes
// and the Slack notifier (set once the bot exists).
type serveReviews struct {
	svc       *review.Service
	store     review.Store
	campaigns []*review.Campaign
	notifier  *lateNotifier
	api       *review.API
}

// lateNotifier forwards notices to the Slack bot, which is built after
// the review service; without Slack, notices are only logged.
type lateNotifier struct {
	mu  sync.Mutex
	to  review.Notifier
	log *slog.Logger
}

func (n *lateNotifier) set(to review.Notifier) { n.mu.Lock(); n.to = to; n.mu.Unlock() }

func (n *lateNotifier) Notify(ctx context.Context, x review.Notice) {
	n.mu.Lock()
	to := n.to
	n.mu.Unlock()
	if to == nil {
		n.log.Info("review notice not delivered: Slack is off", "kind", x.Kind, "reviewer", x.Reviewer, "items", len(x.Items))
		return
	}
	to.Notify(ctx, x)
}

// loadCampaigns reads reviews.dir (none when unset).
func loadCampaigns(cfg *config.Config) ([]*review.Campaign, error) {
	if cfg.Reviews.Dir == "" {
		return nil, nil
	}
	return review.LoadCampaigns(cfg.Reviews.Dir)
}

func buildReviews(ctx context.Context, cfg *config.Config, campaigns []*review.Campaign, inv *inventory.Inventory, alog *audit.Log,
	approvals *approval.Service, log *slog.Logger) (*serveReviews, error) {
	r := &serveReviews{notifier: &lateNotifier{log: log}, campaigns: campaigns}
	where := cfg.Reviews.Store
	if where == "" {
		where = DefaultReviews
	}
	st, err := review.OpenStore(ctx, where)
	if err != nil {
		return nil, fmt.Errorf("review store: %w", err)
	}
	r.store = st
	groups := review.Groups{Base: approval.StaticGroups(cfg.Approvers), Campaigns: r.campaigns}
	r.svc, err = review.NewService(review.Options{Store: st, Audit: alog, Approvals: approvals, Graph: inv, Groups: groups,
		Notifier: r.notifier, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	r.api = review.NewAPI(r.svc, log)
	return r, nil
}

// tick launches due campaigns and moves open ones along.
func (r *serveReviews) tick(ctx context.Context, log *slog.Logger) {
	if ins, err := r.svc.RunSchedule(ctx, r.campaigns); err != nil {
		log.Warn("scheduled reviews not launched", "err", err)
	} else if len(ins) > 0 {
		log.Info("reviews launched", "campaigns", len(ins))
	}
	if _, err := r.svc.Tick(ctx); err != nil {
		log.Warn("review tick failed", "err", err)
	}
}

// slackReviews is what the bot gets: nil without reviews.
func (r *serveReviews) slackReviews() slackbot.Reviews {
	if r == nil {
		return nil
	}
	return r.svc
}

// handlers are the review routes' handlers: nil without reviews.
func (r *serveReviews) handlers() *server.ReviewHandlers {
	if r == nil {
		return nil
	}
	return r.api.Handlers()
}
