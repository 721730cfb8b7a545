package approval

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
)

// Executor carries out one action; a connectors.Actuator is one.
type Executor interface {
	Execute(ctx context.Context, a connectors.Action) (connectors.Step, error)
}

// Checker is an optional Executor method that re-reads live state to say
// whether an action whose outcome was lost (the process died during the
// call) took effect. Without it such an action is reported, not retried.
type Checker interface {
	Check(ctx context.Context, a connectors.Action) (applied bool, step connectors.Step, err error)
}

// Undoer undoes a step an Executor returned; a connectors.Actuator is one.
type Undoer interface {
	Rollback(ctx context.Context, a connectors.Action, done connectors.Step) error
}

// Execute runs an approved proposal's actions in order. Before each call
// the journal durably says "started", after it "done" with the returned
// step (its undo data) or "failed". A failed action stops the run and the
// proposal becomes failed; nothing is undone automatically (see Rollback).
// If ctx ends between actions the proposal stays executing and Resume
// continues it.
func (s *Service) Execute(ctx context.Context, id string, exec Executor, by Actor) (*Proposal, error) {
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		if p.State != StateApproved {
			return fmt.Errorf("%w: execute needs state approved, is %s", ErrWrongState, p.State)
		}
		p.State, p.Reason, p.UpdatedAt = StateExecuting, "", s.clock.Now().UTC()
		return s.record(ctx, by, audit.ActionExecution, p, "started", nil)
	})
	if err != nil {
		return nil, fmt.Errorf("approval: execute %s: %w", id, err)
	}
	return s.run(ctx, p, exec, by)
}

// Resume continues every proposal left executing by a process that
// stopped. Journalled-done actions are never repeated. An action journalled
// started but not done is checked with the executor's Checker if it has
// one; otherwise the proposal fails with ErrUnknownOutcome for a person to
// check. Resume may race with itself on several replicas without running an
// action twice (each journal mark is a compare-and-set), but it should run
// where no other process is still executing, such as at startup.
func (s *Service) Resume(ctx context.Context, exec Executor, by Actor) ([]*Proposal, error) {
	ps, err := s.store.List(ctx, Filter{States: []State{StateExecuting}})
	if err != nil {
		return nil, fmt.Errorf("approval: resume: %w", err)
	}
	var out []*Proposal
	var errs []error
	for _, p := range ps {
		q, err := s.resume(ctx, p, exec, by)
		if q != nil {
			out = append(out, q)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

func (s *Service) resume(ctx context.Context, p *Proposal, exec Executor, by Actor) (*Proposal, error) {
	for i, a := range p.Actions {
		if p.ActionPhase(i) != PhaseStarted {
			continue
		}
		checker, ok := exec.(Checker)
		if !ok {
			return s.failUnknown(ctx, p.ID, i, by, "the executor cannot check live state")
		}
		applied, step, err := checker.Check(ctx, a)
		if err != nil {
			return s.failUnknown(ctx, p.ID, i, by, "check failed: "+err.Error())
		}
		next, outcome := PhaseCheckedAbsent, "not applied (checked after restart); will run"
		var stepp *connectors.Step
		if applied {
			next, outcome, stepp = PhaseDone, "done (confirmed by check after restart)", &step
		}
		q, err := s.mark(ctx, p.ID, i, by, []Phase{PhaseStarted}, next, stepp, "", outcome)
		if err != nil {
			return p, fmt.Errorf("approval: resume %s: %w", p.ID, err)
		}
		p = q
	}
	return s.run(ctx, p, exec, by)
}

// run executes the actions of an executing proposal not yet done.
func (s *Service) run(ctx context.Context, p *Proposal, exec Executor, by Actor) (*Proposal, error) {
	id := p.ID
	for i, a := range p.Actions {
		ph := p.ActionPhase(i)
		switch ph {
		case PhaseDone, PhaseResolvedDone:
			continue
		case "", PhaseCheckedAbsent, PhaseResolvedNot:
		case PhaseStarted:
			return s.failUnknown(ctx, id, i, by, "found started but not done")
		default:
			return p, fmt.Errorf("approval: execute %s: %w: action %d is %s", id, ErrWrongState, i, ph)
		}
		if err := ctx.Err(); err != nil {
			return p, fmt.Errorf("approval: execute %s: stopped before action %d (stays executing): %w", id, i, err)
		}
		q, err := s.mark(ctx, id, i, by, []Phase{ph}, PhaseStarted, nil, "", "action started")
		if err != nil {
			return p, fmt.Errorf("approval: execute %s: %w", id, err)
		}
		p = q
		step, xerr := exec.Execute(ctx, a)
		// The call has happened: its outcome is journalled even if ctx
		// ended meanwhile, or a finished action would look unknown.
		jctx := context.WithoutCancel(ctx)
		if xerr != nil {
			reason := fmt.Sprintf("action %d (%s on %s) failed: %v", i, a.Type, a.Target, xerr)
			q, err := s.update(jctx, id, by, func(p *Proposal) error {
				if p.State != StateExecuting || p.ActionPhase(i) != PhaseStarted {
					return fmt.Errorf("%w: action %d changed under us", ErrWrongState, i)
				}
				now := s.clock.Now().UTC()
				p.Journal = append(p.Journal, JournalEntry{Action: i, Phase: PhaseFailed, Error: xerr.Error(), At: now})
				p.State, p.Reason, p.UpdatedAt = StateFailed, reason, now
				return s.recordAction(jctx, by, p, i, "failed", map[string]string{"error": xerr.Error()})
			})
			if err != nil {
				return p, fmt.Errorf("approval: execute %s: journal failure of action %d: %w (action error: %w)", id, i, err, xerr)
			}
			return q, fmt.Errorf("approval: execute %s: action %d (%s on %s): %w", id, i, a.Type, a.Target, xerr)
		}
		q, err = s.mark(jctx, id, i, by, []Phase{PhaseStarted}, PhaseDone, &step, "", "done")
		if err != nil {
			return p, fmt.Errorf("approval: execute %s: %w", id, err)
		}
		p = q
	}
	q, err := s.update(ctx, id, by, func(p *Proposal) error {
		if p.State != StateExecuting {
			return fmt.Errorf("%w: finishing needs state executing, is %s", ErrWrongState, p.State)
		}
		p.State, p.Reason, p.UpdatedAt = StateDone, "", s.clock.Now().UTC()
		return s.record(ctx, by, audit.ActionExecution, p, "done", nil)
	})
	if err != nil {
		return p, fmt.Errorf("approval: execute %s: %w", id, err)
	}
	return q, nil
}

// mark appends a journal entry for action i if its last phase is one of
// from and the proposal is executing (or, for undo marks, done or failed);
// the check makes each mark a compare-and-set, so two processes never both
// start the same action.
func (s *Service) mark(ctx context.Context, id string, i int, by Actor, from []Phase, to Phase, step *connectors.Step, errStr, outcome string) (*Proposal, error) {
	return s.update(ctx, id, by, func(p *Proposal) error {
		undo := to == PhaseUndoStarted || to == PhaseUndoDone
		switch {
		case undo && p.State != StateDone && p.State != StateFailed:
			return fmt.Errorf("%w: undo needs state done or failed, is %s", ErrWrongState, p.State)
		case !undo && p.State != StateExecuting:
			return fmt.Errorf("%w: journal needs state executing, is %s", ErrWrongState, p.State)
		}
		cur := p.ActionPhase(i)
		ok := false
		for _, f := range from {
			ok = ok || cur == f
		}
		if !ok {
			return fmt.Errorf("%w: action %d is %q, want one of %q", ErrWrongState, i, cur, from)
		}
		now := s.clock.Now().UTC()
		p.Journal = append(p.Journal, JournalEntry{Action: i, Phase: to, Step: step, Error: errStr, At: now})
		p.UpdatedAt = now
		action := audit.ActionExecution
		if undo {
			action = audit.ActionRollback
		}
		var extra map[string]string
		if step != nil && step.Call != "" {
			extra = map[string]string{"call": step.Call}
		}
		return s.recordActionAs(ctx, by, action, p, i, outcome, extra)
	})
}

func (s *Service) failUnknown(ctx context.Context, id string, i int, by Actor, why string) (*Proposal, error) {
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		a := p.Actions[i]
		p.State = StateFailed
		p.Reason = fmt.Sprintf("action %d (%s on %s): %s: %s", i, a.Type, a.Target, ErrUnknownOutcome, why)
		p.UpdatedAt = s.clock.Now().UTC()
		return s.recordAction(ctx, by, p, i, ErrUnknownOutcome.Error(), map[string]string{"why": why})
	})
	if err != nil {
		return p, fmt.Errorf("approval: execute %s: record unknown outcome of action %d: %w", id, i, err)
	}
	return p, fmt.Errorf("approval: execute %s: action %d: %w (%s)", id, i, ErrUnknownOutcome, why)
}

func (s *Service) recordAction(ctx context.Context, by Actor, p *Proposal, i int, outcome string, extra map[string]string) error {
	return s.recordActionAs(ctx, by, audit.ActionExecution, p, i, outcome, extra)
}

// recordActionAs writes the audit record of one action's step, targeted at
// the action's node rather than the whole proposal.
func (s *Service) recordActionAs(ctx context.Context, by Actor, action string, p *Proposal, i int, outcome string, extra map[string]string) error {
	a := p.Actions[i]
	d := map[string]string{"proposal": p.ID, "index": strconv.Itoa(i), "type": string(a.Type), "state": string(p.State), "digest": p.Digest}
	for k, v := range extra {
		d[k] = v
	}
	where := by.Where
	if where == "" {
		where = audit.WhereSystem
	}
	if _, err := s.audit.Append(ctx, audit.Record{Actor: by.ID, Action: action, Target: a.Target, Where: where, Outcome: outcome, Details: d}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Rollback undoes the done actions of a done or failed proposal in reverse
// order, journalling undo_started and undo_done around each call. It
// refuses while any action or undo has an unknown outcome (see
// ResolveUnknown). On an undo error the proposal is failed and the error
// returned; undos already done stay done, so calling Rollback again goes
// on where it stopped.
func (s *Service) Rollback(ctx context.Context, id string, u Undoer, by Actor) (*Proposal, error) {
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("approval: rollback %s: %w", id, err)
	}
	if p.State != StateDone && p.State != StateFailed {
		return p, fmt.Errorf("approval: rollback %s: %w: needs state done or failed, is %s", id, ErrWrongState, p.State)
	}
	for i := range p.Actions {
		if ph := p.ActionPhase(i); ph == PhaseStarted || ph == PhaseUndoStarted {
			return p, fmt.Errorf("approval: rollback %s: action %d (%s): %w; resolve it first", id, i, ph, ErrUnknownOutcome)
		}
	}
	for i := len(p.Actions) - 1; i >= 0; i-- {
		if ph := p.ActionPhase(i); ph != PhaseDone && ph != PhaseResolvedDone {
			continue
		}
		if err := ctx.Err(); err != nil {
			return p, fmt.Errorf("approval: rollback %s: stopped before undoing action %d: %w", id, i, err)
		}
		q, err := s.mark(ctx, id, i, by, []Phase{PhaseDone, PhaseResolvedDone}, PhaseUndoStarted, nil, "", "undo started")
		if err != nil {
			return p, fmt.Errorf("approval: rollback %s: %w", id, err)
		}
		p = q
		step, _ := p.doneStep(i)
		a := p.Actions[i]
		uerr := u.Rollback(ctx, a, step)
		jctx := context.WithoutCancel(ctx)
		if uerr != nil {
			q, err := s.update(jctx, id, by, func(p *Proposal) error {
				if p.ActionPhase(i) != PhaseUndoStarted {
					return fmt.Errorf("%w: undo of action %d changed under us", ErrWrongState, i)
				}
				now := s.clock.Now().UTC()
				p.Journal = append(p.Journal, JournalEntry{Action: i, Phase: PhaseUndoFailed, Error: uerr.Error(), At: now})
				// The action is still in effect: mark it done again so
				// a later Rollback retries it.
				p.Journal = append(p.Journal, JournalEntry{Action: i, Phase: PhaseResolvedDone, Step: &step, At: now})
				p.State, p.UpdatedAt = StateFailed, now
				p.Reason = fmt.Sprintf("undo of action %d (%s on %s) failed: %v", i, a.Type, a.Target, uerr)
				return s.recordActionAs(jctx, by, audit.ActionRollback, p, i, "undo failed", map[string]string{"error": uerr.Error()})
			})
			if err != nil {
				return p, fmt.Errorf("approval: rollback %s: journal undo failure of action %d: %w (undo error: %w)", id, i, err, uerr)
			}
			return q, fmt.Errorf("approval: rollback %s: undo action %d (%s on %s): %w", id, i, a.Type, a.Target, uerr)
		}
		q, err = s.mark(jctx, id, i, by, []Phase{PhaseUndoStarted}, PhaseUndoDone, nil, "", "undo done")
		if err != nil {
			return p, fmt.Errorf("approval: rollback %s: %w", id, err)
		}
		p = q
	}
	q, err := s.update(ctx, id, by, func(p *Proposal) error {
		if p.State != StateDone && p.State != StateFailed {
			return fmt.Errorf("%w: rollback finish needs done or failed, is %s", ErrWrongState, p.State)
		}
		p.State, p.Reason, p.UpdatedAt = StateRolledBack, "rolled back by "+by.ID, s.clock.Now().UTC()
		return s.record(ctx, by, audit.ActionRollback, p, string(StateRolledBack), nil)
	})
	if err != nil {
		return p, fmt.Errorf("approval: rollback %s: %w", id, err)
	}
	return q, nil
}

// ResolveUnknown records what a person found on the live system for an
// action (or undo) whose outcome was unknown: applied says whether the
// call took effect. An undo found applied counts as undone; one found not
// applied leaves the action in effect. For an action found applied, step is the undo data
// Rollback will pass to the Undoer (the executor never returned it); an
// empty step makes the Undoer work from live state or refuse. The proposal
// stays failed; afterwards Rollback can undo what is in effect.
func (s *Service) ResolveUnknown(ctx context.Context, id string, i int, applied bool, step connectors.Step, by Actor, reason string) (*Proposal, error) {
	if reasonEmpty(reason) {
		return nil, fmt.Errorf("approval: resolve %s: %w", id, ErrReasonRequired)
	}
	p, err := s.update(ctx, id, by, func(p *Proposal) error {
		// A crash during Rollback leaves a done proposal with an undo of
		// unknown outcome; a crash during Execute leaves a failed one.
		if p.State != StateFailed && p.State != StateDone {
			return fmt.Errorf("%w: resolve needs state failed or done, is %s", ErrWrongState, p.State)
		}
		if i < 0 || i >= len(p.Actions) {
			return fmt.Errorf("%w: no action %d", ErrInvalidProposal, i)
		}
		var to Phase
		switch ph := p.ActionPhase(i); {
		case ph == PhaseStarted && applied:
			to = PhaseResolvedDone
		case ph == PhaseStarted:
			to = PhaseResolvedNot
		case ph == PhaseUndoStarted && applied:
			to = PhaseUndoDone
		case ph == PhaseUndoStarted:
			to = PhaseResolvedDone
		default:
			return fmt.Errorf("%w: action %d is %q, not an unknown outcome", ErrWrongState, i, ph)
		}
		now := s.clock.Now().UTC()
		var stepp *connectors.Step
		switch {
		case to == PhaseResolvedDone && p.ActionPhase(i) == PhaseUndoStarted:
			// The undo did not happen: the original step still holds.
			if st, ok := p.doneStep(i); ok {
				stepp = &st
			}
		case to == PhaseResolvedDone:
			stepp = &step
		}
		p.Journal = append(p.Journal, JournalEntry{Action: i, Phase: to, Step: stepp, At: now})
		p.Reason, p.UpdatedAt = fmt.Sprintf("action %d resolved by %s: %s", i, by.ID, reason), now
		return s.recordAction(ctx, by, p, i, "resolved: "+string(to), map[string]string{"reason": reason})
	})
	if err != nil {
		return nil, fmt.Errorf("approval: resolve %s: %w", id, err)
	}
	return p, nil
}
