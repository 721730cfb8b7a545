package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/review"
)

// Reviews is the access-review service; *review.Service is one. Without
// it the bot posts no review messages and ignores review buttons.
type Reviews interface {
	Get(ctx context.Context, id string) (*review.Instance, error)
	Decide(ctx context.Context, id, item string, d review.Input, by approval.Actor) (*review.Instance, *review.Item, error)
}

var _ Reviews = (*review.Service)(nil)

// Action ids of review messages and their dialogs. A button's value is
// "<campaign id>|<item id>".
const (
	ActionReviewKeep       = "steward_review_keep"
	ActionReviewRevoke     = "steward_review_revoke"
	ActionReviewModify     = "steward_review_modify"
	ActionReviewReassign   = "steward_review_reassign"
	ActionReviewDetails    = "steward_review_details"
	CallbackReviewKeep     = "steward_review_keep_form"
	CallbackReviewReassign = "steward_review_reassign_form"
	blockJustification     = "justification"
	blockUntil             = "until"
	blockTo                = "to"
)

// reviewPage is how many items one review message carries; Slack allows
// 50 blocks and an item takes three.
const reviewPage = 10

var _ review.Notifier = (*Bot)(nil)

// Notify implements review.Notifier: one direct message per reviewer
// (paged) listing their items with Keep / Revoke / Modify / Reassign /
// Details buttons. A reviewer the workspace does not know is logged.
func (b *Bot) Notify(ctx context.Context, n review.Notice) {
	user, err := b.slackUser(ctx, n.Reviewer)
	if err != nil {
		b.log.Warn("review reviewer has no Slack account", "reviewer", n.Reviewer, attrErr, err)
		return
	}
	for _, blocks := range reviewMessages(n, b.deps.Clock.Now()) {
		text := fmt.Sprintf("Access review %s: %d item(s) for you, due %s", n.Instance.Campaign.Name, len(n.Items), n.Instance.Due.UTC().Format(time.DateOnly))
		b.post(ctx, thread{Channel: user}, text, blocks...)
	}
}

// slackUser finds the Slack user id of an e-mail: the configured users
// map, else users.lookupByEmail.
func (b *Bot) slackUser(ctx context.Context, email string) (string, error) {
	for id, e := range b.cfg.Users {
		if strings.EqualFold(e, email) {
			return id, nil
		}
	}
	u, err := b.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.emails[u.ID] = strings.ToLower(email)
	b.mu.Unlock()
	return u.ID, nil
}

// reviewMessages renders a notice as one block set per page.
func reviewMessages(n review.Notice, now time.Time) [][]slack.Block {
	in := n.Instance
	title := map[string]string{"assigned": "Access review", "reminder": "Reminder: access review", "escalated": "Escalated to you: access review",
		"reassigned": "Reassigned to you: access review"}[n.Kind]
	if title == "" {
		title = "Access review"
	}
	pages := (len(n.Items) + reviewPage - 1) / reviewPage
	var out [][]slack.Block
	for p := 0; p < pages; p++ {
		items := n.Items[p*reviewPage : min((p+1)*reviewPage, len(n.Items))]
		blocks := []slack.Block{
			slack.NewHeaderBlock(plain(clip(title+" "+in.Campaign.Name, 150))),
			slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d item(s) for %s · due %s (%s) · page %d of %d", len(n.Items), n.Reviewer,
				in.Due.UTC().Format(time.RFC3339), untilText(now, in.Due), p+1, pages))),
		}
		for _, it := range items {
			blocks = append(blocks, slack.NewDividerBlock(), section(itemText(it)), itemButtons(in.ID, it))
		}
		out = append(out, blocks)
	}
	return out
}

func untilText(now, due time.Time) string {
	d := due.Sub(now)
	if d <= 0 {
		return "overdue"
	}
	return fmt.Sprintf("%d days left", int(d.Hours()/24))
}

func itemText(it *review.Item) string {
	s := &it.Snapshot
	owner := s.Owner
	if owner == "" {
		owner = "_" + s.OwnerState + "_"
	}
	last := "no recorded use"
	if !s.LastUsed.IsZero() {
		last = "last used " + s.LastUsed.UTC().Format(time.DateOnly)
	}
	l := fmt.Sprintf("*%s* `%s` %s · %s · %s\nprivilege *%s* · owner %s · %s (%d days idle)", it.ID, cell(s.Name), s.Kind, cell(s.Source),
		cell(s.ID), s.Privilege, owner, last, s.IdleDays)
	if s.CredentialAgeDays >= 0 {
		l += fmt.Sprintf(" · oldest credential %d days", s.CredentialAgeDays)
	}
	if len(s.Leaks) > 0 {
		l += " · :warning: leaked"
	}
	if s.UnusedKnown {
		l += fmt.Sprintf(" · %d unused permission(s)", len(s.Unused))
	}
	if it.Changed {
		l += "\n:warning: changed since launch: " + cell(it.ChangedHow)
	}
	return l
}

func itemButtons(campaign string, it *review.Item) *slack.ActionBlock {
	v := campaign + "|" + it.ID
	els := []slack.BlockElement{
		slack.NewButtonBlockElement(ActionReviewKeep, v, plain("Keep")).WithStyle(slack.StylePrimary),
		slack.NewButtonBlockElement(ActionReviewRevoke, v, plain("Revoke")).WithStyle(slack.StyleDanger),
	}
	if it.Snapshot.UnusedKnown && len(it.Snapshot.Unused) > 0 {
		els = append(els, slack.NewButtonBlockElement(ActionReviewModify, v, plain("Modify")))
	}
	els = append(els, slack.NewButtonBlockElement(ActionReviewReassign, v, plain("Reassign")),
		slack.NewButtonBlockElement(ActionReviewDetails, v, plain("Details")))
	return slack.NewActionBlock("review_"+it.ID, els...)
}

// isReviewAction reports whether a button belongs to a review message.
func isReviewAction(id string) bool { return strings.HasPrefix(id, "steward_review_") }

// onReviewClick handles a review button.
func (b *Bot) onReviewClick(ctx context.Context, ic slack.InteractionCallback, channel string, a slack.BlockAction) {
	if b.deps.Reviews == nil {
		return
	}
	id, item, ok := strings.Cut(a.Value, "|")
	if !ok {
		return
	}
	by := b.actor(ctx, ic.User.ID)
	switch a.ActionID {
	case ActionReviewDetails:
		in, err := b.deps.Reviews.Get(ctx, id)
		if err != nil {
			b.ephemeral(ctx, channel, ic.User.ID, reviewRefusal(err))
			return
		}
		it, err := in.Item(item)
		if err != nil {
			b.ephemeral(ctx, channel, ic.User.ID, reviewRefusal(err))
			return
		}
		b.ephemeral(ctx, channel, ic.User.ID, "Details of "+it.ID, reviewDetailBlocks(in, it)...)
	case ActionReviewRevoke, ActionReviewModify:
		kind := review.DecisionRevoke
		if a.ActionID == ActionReviewModify {
			kind = review.DecisionModify
		}
		b.reviewDecide(ctx, channel, ic.User.ID, id, item, review.Input{Kind: kind, Justification: string(kind) + " decided in Slack"}, by)
	case ActionReviewKeep, ActionReviewReassign:
		b.openReviewForm(ctx, ic, channel, a.ActionID, id, item)
	}
}

type reviewMeta struct {
	Campaign string `json:"campaign"`
	Item     string `json:"item"`
	Channel  string `json:"channel"`
}

func (b *Bot) openReviewForm(ctx context.Context, ic slack.InteractionCallback, channel, action, id, item string) {
	meta, _ := json.Marshal(reviewMeta{Campaign: id, Item: item, Channel: channel})
	input := func(block, label, hint string, optional bool) *slack.InputBlock {
		el := slack.NewPlainTextInputBlockElement(plain(hint), block)
		ib := slack.NewInputBlock(block, plain(label), nil, el)
		ib.Optional = optional
		return ib
	}
	view := slack.ModalViewRequest{Type: slack.VTModal, PrivateMetadata: string(meta),
		Close: plain("Cancel")}
	switch action {
	case ActionReviewKeep:
		view.CallbackID, view.Title, view.Submit = CallbackReviewKeep, plain("Keep access"), plain("Keep")
		view.Blocks = slack.Blocks{BlockSet: []slack.Block{
			input(blockJustification, "Why is this access still needed?", "required for privileged or idle access", true),
			input(blockUntil, "Keep until (YYYY-MM-DD)", "default: the campaign's keep period", true),
		}}
	default:
		view.CallbackID, view.Title, view.Submit = CallbackReviewReassign, plain("Reassign item"), plain("Reassign")
		view.Blocks = slack.Blocks{BlockSet: []slack.Block{
			input(blockTo, "New reviewer's e-mail", "name@example.com", false),
			input(blockJustification, "Note for them", "why they should review it", false),
		}}
	}
	if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
		b.log.Error("views.open failed", "campaign", id, attrErr, err)
		b.ephemeral(ctx, channel, ic.User.ID, "I could not open the dialog; try again.")
	}
}

// onReviewView handles a review dialog's submission; false if the view
// is not one.
func (b *Bot) onReviewView(ctx context.Context, ic slack.InteractionCallback) bool {
	if ic.View.CallbackID != CallbackReviewKeep && ic.View.CallbackID != CallbackReviewReassign {
		return false
	}
	if b.deps.Reviews == nil {
		return true
	}
	var meta reviewMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.Campaign == "" {
		b.log.Warn("review dialog without metadata", attrUser, ic.User.ID)
		return true
	}
	val := func(block string) string {
		if ic.View.State == nil {
			return ""
		}
		return strings.TrimSpace(ic.View.State.Values[block][block].Value)
	}
	by := b.actor(ctx, ic.User.ID)
	in := review.Input{Kind: review.DecisionKeep, Justification: val(blockJustification)}
	if ic.View.CallbackID == CallbackReviewReassign {
		in.Kind, in.To = review.DecisionReassign, val(blockTo)
	} else if u := val(blockUntil); u != "" {
		t, err := time.Parse(time.DateOnly, u)
		if err != nil {
			b.ephemeral(ctx, meta.Channel, ic.User.ID, fmt.Sprintf("%q is not a date like 2026-12-31. Nothing changed.", clip(u, 40)))
			return true
		}
		in.Until = t
	}
	b.reviewDecide(ctx, meta.Channel, ic.User.ID, meta.Campaign, meta.Item, in, by)
	return true
}

// reviewDecide records a decision and tells the reviewer how it went;
// a Revoke or Modify's proposal goes to the approvers' channel.
func (b *Bot) reviewDecide(ctx context.Context, channel, user, id, item string, d review.Input, by approval.Actor) {
	_, it, err := b.deps.Reviews.Decide(ctx, id, item, d, by)
	if err != nil {
		// The review service audited the refusal.
		b.log.Info("review decision refused", attrUser, user, "campaign", id, "item", item, attrErr, err)
		b.ephemeral(ctx, channel, user, reviewRefusal(err))
		return
	}
	switch {
	case d.Kind == review.DecisionReassign:
		b.post(ctx, thread{Channel: channel}, fmt.Sprintf("%s (%s) reassigned to %s.", it.ID, cell(it.Snapshot.Name), it.Reviewer))
	case it.ProposalID != "":
		b.post(ctx, thread{Channel: channel}, fmt.Sprintf("%s (%s): %s recorded. Proposal %s goes to the approvers; nothing changes until it is approved.",
			it.ID, cell(it.Snapshot.Name), d.Kind, it.ProposalID))
		if p, err := b.deps.Approvals.Get(ctx, it.ProposalID); err == nil && b.cfg.Channel != "" {
			b.postProposal(ctx, thread{Channel: b.cfg.Channel}, p)
		}
	default:
		b.post(ctx, thread{Channel: channel}, fmt.Sprintf("%s (%s): kept until %s.", it.ID, cell(it.Snapshot.Name), it.Decision.Until.UTC().Format(time.DateOnly)))
	}
}

// reviewRefusal is the vetted message of a refused review decision.
func reviewRefusal(err error) string {
	switch {
	case errors.Is(err, review.ErrSelfReview):
		return "You own this identity, and this campaign does not let owners review their own. Nothing changed."
	case errors.Is(err, review.ErrNotReviewer):
		return "You are not the reviewer of this item. Nothing changed."
	case errors.Is(err, review.ErrClosed):
		return "This campaign is closed. Nothing changed."
	case errors.Is(err, review.ErrAlreadyDecided):
		return "This item has already been decided. Nothing changed."
	case errors.Is(err, review.ErrJustificationRequired):
		return "Keeping privileged or idle access needs a justification. Nothing changed."
	case errors.Is(err, review.ErrBadDecision):
		return "That decision cannot be recorded: " + cell(errText(err)) + ". Nothing changed."
	case errors.Is(err, review.ErrNotFound):
		return "Unknown campaign or item. Nothing changed."
	}
	return "Your decision could not be recorded. Nothing changed; the details are in Steward's log."
}

// errText is the part of a review error after the sentinel.
func errText(err error) string {
	s := err.Error()
	if i := strings.Index(s, review.ErrBadDecision.Error()+": "); i >= 0 {
		return s[i+len(review.ErrBadDecision.Error())+2:]
	}
	return review.ErrBadDecision.Error()
}

func reviewDetailBlocks(in *review.Instance, it *review.Item) []slack.Block {
	s := &it.Snapshot
	var grants []string
	for i, g := range s.Grants {
		if i == 15 {
			grants = append(grants, fmt.Sprintf("… %d more", len(s.Grants)-15))
			break
		}
		grants = append(grants, fmt.Sprintf("• `%s` on `%s` (%s)", cell(g.Action), cell(g.Resource), g.Privilege))
	}
	var chain []string
	for _, st := range it.Chain {
		chain = append(chain, st.Rule+": "+st.Reviewer)
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(it.ID+" · "+s.Name, 150))),
		section(fmt.Sprintf("*Campaign* %s (due %s)\n*Why selected*\n%s", in.ID, in.Due.UTC().Format(time.RFC3339), cell(strings.Join(s.Evidence, "\n")))),
		section("*Grants*\n" + strings.Join(grants, "\n")),
	}
	if s.UnusedKnown {
		blocks = append(blocks, section("*Unused permissions*\n"+cell(strings.Join(s.Unused, ", "))))
	}
	if len(s.Leaks) > 0 {
		blocks = append(blocks, section("*Leaked in*\n"+cell(strings.Join(s.Leaks, ", "))))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Reviewer chain: %s. Snapshot taken %s.", strings.Join(chain, " → "),
		in.LaunchedAt.UTC().Format(time.RFC3339)))))
	return blocks
}
