package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/internal/publicerr"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/tools"
	"github.com/steward-oss/steward/workflow"
)

// Action ids of the bot's buttons and modal.
const (
	ActionShowPlan = "steward_show_plan"
	ActionApprove  = "steward_approve"
	ActionReject   = "steward_reject"
	ActionDetails  = "steward_details"
	CallbackReject = "steward_reject_reason"
	blockReason    = "reason"
)

var mentionRE = regexp.MustCompile(`<@[A-Z0-9]+(\|[^>]*)?>`)

// onMessage routes a message: "remediate", "rollback", or a question.
func (b *Bot) onMessage(ctx context.Context, m message) {
	text := strings.TrimSpace(mentionRE.ReplaceAllString(m.Text, ""))
	if text == "" {
		return
	}
	th := thread{Channel: m.Channel, TS: m.ThreadTS}
	if th.TS == "" {
		th.TS = m.TS
	}
	word, rest, _ := strings.Cut(text, " ")
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "remediate":
		if !m.Command {
			b.remediate(ctx, th, m.User, strings.TrimSpace(rest))
			return
		}
	case "rollback":
		if !m.Command {
			b.rollback(ctx, th, m.User)
			return
		}
	}
	if m.Command {
		// A slash command has no message to thread under: the bot
		// starts the thread with the question.
		_, ts, err := b.api.PostMessageContext(ctx, m.Channel, slack.MsgOptionText(fmt.Sprintf("<@%s> asked: %s", m.User, tools.MaskSecrets(text)), false))
		if err != nil {
			b.log.Error("post question", attrChannel, m.Channel, attrErr, err)
			return
		}
		th.TS = ts
	}
	b.ask(ctx, th, m.User, text)
}

// actor maps a Slack user to the id approval rules use: the configured
// e-mail, else the profile's, else "slack:<user id>" (which no rule
// names, so such a user can ask but never approve).
func (b *Bot) actor(ctx context.Context, user string) approval.Actor {
	if e := b.cfg.Users[user]; e != "" {
		return approval.Actor{ID: strings.ToLower(e), Where: audit.WhereSlack}
	}
	b.mu.Lock()
	e, ok := b.emails[user]
	b.mu.Unlock()
	if !ok {
		u, err := b.api.GetUserInfoContext(ctx, user)
		switch {
		case err != nil:
			b.log.Warn("users.info failed; acting as the bare Slack id", attrUser, user, attrErr, err)
		case u.Profile.Email != "":
			e = strings.ToLower(u.Profile.Email)
			b.mu.Lock()
			b.emails[user] = e
			b.mu.Unlock()
		}
	}
	if e == "" {
		e = "slack:" + user
	}
	return approval.Actor{ID: e, Where: audit.WhereSlack}
}

// record appends an audit record; a failure is logged (the caller has
// already refused or acted and cannot undo that).
func (b *Bot) record(ctx context.Context, r audit.Record) error {
	r.Where = audit.WhereSlack
	if _, err := b.deps.Audit.Append(context.WithoutCancel(ctx), r); err != nil {
		b.log.Error("audit append failed", "action", r.Action, attrErr, err)
		return err
	}
	return nil
}

func (b *Bot) post(ctx context.Context, th thread, text string, blocks ...slack.Block) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if th.TS != "" {
		opts = append(opts, slack.MsgOptionTS(th.TS))
	}
	if _, _, err := b.api.PostMessageContext(ctx, th.Channel, opts...); err != nil {
		b.log.Error("chat.postMessage failed", attrChannel, th.Channel, attrErr, err)
	}
}

func (b *Bot) ephemeral(ctx context.Context, channel, user, text string, blocks ...slack.Block) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, opts...); err != nil {
		b.log.Error("chat.postEphemeral failed", attrChannel, channel, attrUser, user, attrErr, err)
	}
}

// ask answers a question in its thread.
func (b *Bot) ask(ctx context.Context, th thread, user, text string) {
	by := b.actor(ctx, user)
	start := b.deps.Clock.Now()
	ans, err := b.deps.Asker.Chat(ctx, th.key(), by.ID, text, nil)
	outcome := "answered"
	details := map[string]string{"conversation": th.key(), "question": tools.MaskSecrets(clip(text, 500)), attrUser: user}
	if ans != nil {
		outcome = fmt.Sprintf("answered (%d rows of %d)", len(ans.Rows), ans.Total)
		if ans.Plan != nil {
			if pj, err := json.Marshal(ans.Plan); err == nil {
				details["plan"] = clip(string(pj), 2000)
			}
		}
	}
	if err != nil {
		outcome = "not answered"
		b.log.Warn("question not answered", attrUser, user, attrErr, err)
	}
	if !b.cfg.AskerAudits {
		if aerr := b.record(ctx, audit.Record{Actor: by.ID, Action: audit.ActionQuestion, Outcome: outcome, Details: details}); aerr != nil {
			b.post(ctx, th, "I could not record your question in the audit log, so I will not answer it.")
			return
		}
	}
	if ans == nil {
		b.post(ctx, th, publicerr.MessageOr(err, "Sorry, I could not answer that. The details are in Steward's log."))
		return
	}
	b.mu.Lock()
	b.convs.put(th.key(), &conversation{thread: th, question: text, answer: ans})
	b.mu.Unlock()
	b.postAnswer(ctx, th, ans)
	b.postAgentProposals(ctx, th, by, ans, start)
}

// postAgentProposals posts the proposals the agent recorded while
// answering (propose_remediation), so approvers get their buttons.
func (b *Bot) postAgentProposals(ctx context.Context, th thread, by approval.Actor, ans *chat.Answer, since time.Time) {
	proposed := false
	for _, s := range ans.Steps {
		proposed = proposed || (s.Tool == "propose_remediation" && s.Error == "")
	}
	if !proposed {
		return
	}
	ps, err := b.deps.Approvals.List(ctx, approval.Filter{States: []approval.State{approval.StateProposed}})
	if err != nil {
		b.log.Error("list proposals after propose_remediation", attrErr, err)
		return
	}
	for _, p := range ps {
		if strings.EqualFold(p.Requester, by.ID) && !p.CreatedAt.Before(since.UTC().Truncate(time.Second)) {
			b.mu.Lock()
			_, known := b.threads[p.ID]
			if !known {
				b.setThread(p.ID, th)
			}
			b.mu.Unlock()
			if !known {
				b.postProposal(ctx, th, p)
			}
		}
	}
}

// remediate turns the thread's previous result into a proposal.
func (b *Bot) remediate(ctx context.Context, th thread, user, args string) {
	b.mu.Lock()
	conv, ok := b.convs.get(th.key())
	b.mu.Unlock()
	if !ok || conv.answer == nil {
		b.post(ctx, th, "Ask a question in this thread first; `remediate` acts on its result.")
		return
	}
	by := b.actor(ctx, user)
	rp, err := workflow.FromAnswer(b.deps.Index, workflow.AnswerRequest{Answer: conv.answer, Question: conv.question, Args: args,
		Requester: by.ID, Required: b.cfg.Required, Group: b.cfg.ApproverGroup, ExpiresAt: b.deps.Clock.Now().Add(b.cfg.Expiry)})
	if err != nil {
		// A refusal is written for the analyst; anything else is an
		// internal failure whose detail stays in the log.
		msg, public := publicerr.Message(err)
		if !public {
			b.log.Warn("proposal not prepared", attrUser, user, attrErr, err)
			msg = "I could not prepare the proposal. The details are in Steward's log."
		}
		b.post(ctx, th, msg)
		return
	}
	p, err := remediation.Submit(ctx, b.deps.Approvals, rp, by)
	if err != nil {
		b.log.Warn("proposal refused", attrUser, user, attrErr, err)
		if errors.Is(err, approval.ErrInvalidProposal) || errors.Is(err, remediation.ErrInvalid) || errors.Is(err, approval.ErrDuplicateKey) {
			b.post(ctx, th, "I could not open the proposal: "+tools.MaskSecrets(err.Error()))
			return
		}
		b.post(ctx, th, "I could not open the proposal. The details are in Steward's log.")
		return
	}
	b.mu.Lock()
	b.setThread(p.ID, th)
	b.mu.Unlock()
	b.postProposal(ctx, th, p)
}

// onClick handles a button.
func (b *Bot) onClick(ctx context.Context, ic slack.InteractionCallback, a slack.BlockAction) {
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	switch a.ActionID {
	case ActionShowPlan:
		b.mu.Lock()
		conv, ok := b.convs.get(a.Value)
		b.mu.Unlock()
		if !ok || conv.answer == nil || conv.answer.Plan == nil {
			b.ephemeral(ctx, channel, ic.User.ID, "That result is no longer remembered; ask again.")
			return
		}
		pj, _ := json.MarshalIndent(conv.answer.Plan, "", "  ")
		b.ephemeral(ctx, channel, ic.User.ID, "Query plan", planBlocks(string(pj))...)
	case ActionApprove:
		b.approve(ctx, ic, channel, a.Value)
	case ActionReject:
		b.openReject(ctx, ic, channel, a.Value)
	case ActionDetails:
		b.details(ctx, ic, channel, a.Value)
	default:
		if isReviewAction(a.ActionID) {
			b.onReviewClick(ctx, ic, channel, a)
		}
	}
}

// threadOf returns where proposal id is discussed: remembered, else the
// thread of the clicked message.
func (b *Bot) threadOf(id string, ic *slack.InteractionCallback, channel string) thread {
	b.mu.Lock()
	th, ok := b.threads[id]
	b.mu.Unlock()
	if ok {
		return th
	}
	th = thread{Channel: channel}
	if ic != nil {
		th.TS = ic.Container.ThreadTs
		if th.TS == "" {
			th.TS = ic.Message.ThreadTimestamp
		}
		if th.TS == "" {
			th.TS = ic.Container.MessageTs
		}
	}
	if th.TS != "" && th.Channel != "" {
		b.mu.Lock()
		b.setThread(id, th)
		b.mu.Unlock()
	}
	return th
}

// refusal is the vetted message for a decision the approval service
// refused; the full error is logged.
func refusal(err error) string {
	switch {
	case errors.Is(err, approval.ErrSelfApproval):
		return "You requested this proposal, so you cannot decide on it. Nothing changed."
	case errors.Is(err, approval.ErrNotApprover):
		return "You are not an approver for this proposal. Nothing changed."
	case errors.Is(err, approval.ErrExpired):
		return "This proposal's approval window has closed. Nothing changed."
	case errors.Is(err, approval.ErrDuplicateApprover):
		return "You have already approved this proposal. Nothing changed."
	case errors.Is(err, approval.ErrAlreadyDecided):
		return "This proposal has already been decided. Nothing changed."
	case errors.Is(err, approval.ErrNotFound):
		return "Unknown proposal. Nothing changed."
	}
	return "Your decision could not be recorded. Nothing changed; the details are in Steward's log."
}

// refused tells the clicker and records the refusal.
func (b *Bot) refused(ctx context.Context, channel, user string, by approval.Actor, action, id string, err error) {
	b.log.Info("decision refused", attrUser, user, attrProposal, id, attrErr, err)
	b.ephemeral(ctx, channel, user, refusal(err))
	target := ""
	if p, gerr := b.deps.Approvals.Get(ctx, id); gerr == nil {
		target = strings.Join(p.Targets(), ",")
	}
	_ = b.record(ctx, audit.Record{Actor: by.ID, Action: action, Target: target, Outcome: "refused: " + reasonOf(err),
		Details: map[string]string{attrProposal: id, attrUser: user}})
}

func reasonOf(err error) string {
	for _, s := range []error{approval.ErrSelfApproval, approval.ErrNotApprover, approval.ErrExpired, approval.ErrDuplicateApprover,
		approval.ErrAlreadyDecided, approval.ErrNotFound, approval.ErrWrongState, approval.ErrUnknownOutcome} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "error"
}

func (b *Bot) approve(ctx context.Context, ic slack.InteractionCallback, channel, id string) {
	by := b.actor(ctx, ic.User.ID)
	p, err := b.deps.Approvals.Approve(ctx, id, by, "approved in Slack by "+by.ID)
	if err != nil {
		b.refused(ctx, channel, ic.User.ID, by, audit.ActionApproval, id, err)
		return
	}
	th := b.threadOf(id, &ic, channel)
	n := len(p.Approvals())
	b.post(ctx, th, fmt.Sprintf("Approved by %s (%d of %d).", by.ID, n, p.Rule.Required))
	if p.State == approval.StateApproved {
		b.execute(ctx, th, p.ID, by)
	}
}

// execute runs an approved proposal and posts the outcome.
func (b *Bot) execute(ctx context.Context, th thread, id string, by approval.Actor) {
	p, err := b.deps.Approvals.Execute(ctx, id, b.deps.Executor, by)
	if err != nil {
		b.log.Error("execution failed", attrProposal, id, attrErr, err)
	}
	if p == nil {
		b.post(ctx, th, fmt.Sprintf("Proposal %s could not be executed. The details are in Steward's log.", id))
		return
	}
	b.post(ctx, th, fmt.Sprintf("Proposal %s: %s", p.ID, p.State), resultBlocks(p, "Execution")...)
}

func (b *Bot) openReject(ctx context.Context, ic slack.InteractionCallback, channel, id string) {
	by := b.actor(ctx, ic.User.ID)
	p, err := b.deps.Approvals.Get(ctx, id)
	if err == nil {
		err = b.deps.Approvals.MayDecide(p, by)
	}
	if err != nil {
		b.refused(ctx, channel, ic.User.ID, by, audit.ActionRejection, id, err)
		return
	}
	th := b.threadOf(id, &ic, channel)
	meta, _ := json.Marshal(rejectMeta{ID: id, Channel: th.Channel, TS: th.TS})
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackReject,
		PrivateMetadata: string(meta),
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Reject proposal", false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockReason, slack.NewTextBlockObject(slack.PlainTextType, "Why?", false, false), nil,
				slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, "the requester reads this", false, false), blockReason)),
		}},
	}
	if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
		b.log.Error("views.open failed", attrProposal, id, attrErr, err)
		b.ephemeral(ctx, channel, ic.User.ID, "I could not open the reject dialog; try again.")
	}
}

type rejectMeta struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

func (b *Bot) onViewSubmission(ctx context.Context, ic slack.InteractionCallback) {
	if b.onReviewView(ctx, ic) {
		return
	}
	if ic.View.CallbackID != CallbackReject {
		return
	}
	var meta rejectMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil || meta.ID == "" {
		b.log.Warn("reject dialog without proposal metadata", attrUser, ic.User.ID)
		return
	}
	reason := ""
	if ic.View.State != nil {
		reason = strings.TrimSpace(ic.View.State.Values[blockReason][blockReason].Value)
	}
	by := b.actor(ctx, ic.User.ID)
	p, err := b.deps.Approvals.Reject(ctx, meta.ID, by, reason)
	if err != nil {
		if errors.Is(err, approval.ErrReasonRequired) {
			b.ephemeral(ctx, meta.Channel, ic.User.ID, "A reason is required to reject. Nothing changed.")
			return
		}
		b.refused(ctx, meta.Channel, ic.User.ID, by, audit.ActionRejection, meta.ID, err)
		return
	}
	b.post(ctx, thread{Channel: meta.Channel, TS: meta.TS}, fmt.Sprintf("Proposal %s rejected by %s: %s", p.ID, by.ID, tools.MaskSecrets(reason)))
}

// details shows the proposal and its dry run to the clicker.
func (b *Bot) details(ctx context.Context, ic slack.InteractionCallback, channel, id string) {
	p, err := b.deps.Approvals.Get(ctx, id)
	if err != nil {
		b.ephemeral(ctx, channel, ic.User.ID, refusal(err))
		return
	}
	rp, err := remediation.FromApproval(p)
	if err != nil {
		b.log.Error("decode proposal document", attrProposal, id, attrErr, err)
		b.ephemeral(ctx, channel, ic.User.ID, "The proposal's document cannot be read. The details are in Steward's log.")
		return
	}
	items, perr := remediation.Preview(ctx, rp, b.deps.Executor)
	if perr != nil {
		b.log.Warn("preview incomplete", attrProposal, id, attrErr, perr)
	}
	b.ephemeral(ctx, channel, ic.User.ID, "Proposal "+p.ID+" details", detailBlocks(p, b.deps.Approvals.Eligible(p), items)...)
}

// rollback undoes the thread's executed proposal, for an approver.
func (b *Bot) rollback(ctx context.Context, th thread, user string) {
	by := b.actor(ctx, user)
	b.mu.Lock()
	var ids []string
	for pid, t := range b.threads {
		if t == th {
			ids = append(ids, pid)
		}
	}
	b.mu.Unlock()
	// Several proposals in one thread: the latest executed one.
	var p *approval.Proposal
	for _, id := range ids {
		q, err := b.deps.Approvals.Get(ctx, id)
		if err != nil {
			continue
		}
		ran := q.State == approval.StateDone || q.State == approval.StateFailed
		if p == nil || (ran && q.UpdatedAt.After(p.UpdatedAt)) || (ran && p.State != approval.StateDone && p.State != approval.StateFailed) {
			p = q
		}
	}
	if p == nil {
		b.post(ctx, th, "No proposal was made in this thread.")
		return
	}
	id := p.ID
	if err := b.deps.Approvals.MayRollback(p, by); err != nil {
		b.refused(ctx, th.Channel, user, by, audit.ActionRollback, id, err)
		return
	}
	q, err := b.deps.Approvals.Rollback(ctx, id, b.deps.Executor, by)
	if err != nil && (q == nil || errors.Is(err, approval.ErrWrongState) || errors.Is(err, approval.ErrUnknownOutcome)) {
		// Refused before anything was undone.
		b.log.Info("rollback refused", attrProposal, id, attrErr, err)
		b.post(ctx, th, fmt.Sprintf("Proposal %s cannot be rolled back now: %s. Nothing changed.", id, reasonOf(err)))
		_ = b.record(ctx, audit.Record{Actor: by.ID, Action: audit.ActionRollback, Target: strings.Join(p.Targets(), ","),
			Outcome: "refused: " + reasonOf(err), Details: map[string]string{attrProposal: id, attrUser: user}})
		return
	}
	if err != nil {
		// An undo failed: the proposal is failed and says why.
		b.log.Error("rollback failed", attrProposal, id, attrErr, err)
	}
	b.post(ctx, th, fmt.Sprintf("Proposal %s: %s", q.ID, q.State), resultBlocks(q, "Rollback")...)
}

// Resume continues after a restart: executions a crash interrupted, and
// proposals approved in Slack whose execution never started. Results go
// to the proposal's thread if known, else to Config.Channel.
func (b *Bot) Resume(ctx context.Context) error {
	sys := approval.Actor{ID: "steward", Where: audit.WhereSystem}
	done, rerr := b.deps.Approvals.Resume(ctx, b.deps.Executor, sys)
	for _, p := range done {
		b.postResult(ctx, p, "Execution resumed after a restart")
	}
	approved, err := b.deps.Approvals.List(ctx, approval.Filter{States: []approval.State{approval.StateApproved}})
	if err != nil {
		return errors.Join(rerr, fmt.Errorf("slackbot: resume: %w", err))
	}
	var errs []error
	for _, p := range approved {
		last := approval.Actor{}
		for _, d := range p.Decisions {
			if d.Kind == approval.DecisionApprove {
				last = d.Actor
			}
		}
		if last.Where != audit.WhereSlack {
			continue // approved elsewhere: that surface executes it
		}
		q, err := b.deps.Approvals.Execute(ctx, p.ID, b.deps.Executor, last)
		if err != nil {
			errs = append(errs, err)
		}
		if q != nil {
			b.postResult(ctx, q, "Executed after a restart")
		}
	}
	return errors.Join(append(errs, rerr)...)
}

func (b *Bot) postResult(ctx context.Context, p *approval.Proposal, title string) {
	b.mu.Lock()
	th, ok := b.threads[p.ID]
	b.mu.Unlock()
	if !ok {
		if b.cfg.Channel == "" {
			b.log.Info("no thread known for proposal result", attrProposal, p.ID, "state", string(p.State))
			return
		}
		th = thread{Channel: b.cfg.Channel}
	}
	b.post(ctx, th, fmt.Sprintf("Proposal %s: %s", p.ID, p.State), resultBlocks(p, title)...)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// setThread remembers where proposal id is discussed, forgetting the
// oldest beyond the bound; b.mu is held.
func (b *Bot) setThread(id string, th thread) {
	if _, ok := b.threads[id]; !ok {
		b.threadOrder = append(b.threadOrder, id)
	}
	b.threads[id] = th
	for len(b.threadOrder) > memory {
		delete(b.threads, b.threadOrder[0])
		b.threadOrder = b.threadOrder[1:]
	}
}
