package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/remediation"
)

// Auditor appends audit records; *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Audit actions of this package's mutations and runs. (The audit package
// names the approval transitions; these are the workflow's own.)
const (
	ActionPolicyPut    = "policy_put"
	ActionPolicyDelete = "policy_delete"
	ActionPolicyRun    = "policy_run"
	ActionOwnerSet     = "owner_set"
	ActionOwnerUnset   = "owner_unset"
)

// Sentinel errors callers branch on.
var (
	ErrPolicyNotFound = errors.New("no such policy")
	// ErrConflict: the change would leave the policies directory in a
	// state that does not load (a file of that name holds another policy,
	// or the directory is already broken).
	ErrConflict = errors.New("conflict")
)

// PolicyApprovals opens, lists and expires proposals; *approval.Service is
// one.
type PolicyApprovals interface {
	remediation.Proposer
	Expire(ctx context.Context) ([]string, error)
}

var _ PolicyApprovals = (*approval.Service)(nil)

// PolicyRunnerOptions configure a PolicyRunner.
type PolicyRunnerOptions struct {
	// Dir holds the policy files (remediation.policies_dir); it is
	// created if missing.
	Dir       string
	Finder    remediation.Finder
	Approvals PolicyApprovals
	Audit     Auditor
	// Groups, when set, are the configured approver groups: a policy
	// written over HTTP may only name groups that have members.
	Groups approval.Groups
	Logger *slog.Logger
}

// PolicyRunner owns the policies directory: it runs the policies after
// each sync and lets the HTTP API list, write and delete them. The files
// are the only state, read afresh on every use, so a hand edit (or
// another replica's write to a shared directory) is seen at the next run;
// a directory that does not load runs nothing.
type PolicyRunner struct {
	dir    string
	finder remediation.Finder
	svc    PolicyApprovals
	audit  Auditor
	groups approval.Groups
	log    *slog.Logger
	mu     sync.Mutex // serialises writes to dir
}

// NewPolicyRunner checks o and that the directory loads.
func NewPolicyRunner(o PolicyRunnerOptions) (*PolicyRunner, error) {
	switch {
	case o.Dir == "":
		return nil, errors.New("workflow: new policy runner: dir is empty")
	case o.Finder == nil || o.Approvals == nil || o.Audit == nil:
		return nil, errors.New("workflow: new policy runner: finder, approvals and audit are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("workflow: policies dir: %w", err)
	}
	r := &PolicyRunner{dir: o.Dir, finder: o.Finder, svc: o.Approvals, audit: o.Audit, groups: o.Groups, log: o.Logger.With("component", "policies")}
	if _, err := r.Policies(); err != nil {
		return nil, err
	}
	return r, nil
}

// Policies loads every policy of the directory, or none with an error
// naming the bad file and field.
func (r *PolicyRunner) Policies() ([]*remediation.Policy, error) {
	pols, err := remediation.LoadPolicies(r.dir, ValidatePlan)
	if err != nil {
		return nil, fmt.Errorf("workflow: %w", err)
	}
	return pols, nil
}

// RunAfterSync runs every policy over the freshly synced graph at now
// (see remediation.RunPolicies) and audits one summary record. The
// report comes back even when some policies failed; the error joins their
// failures.
func (r *PolicyRunner) RunAfterSync(ctx context.Context, now time.Time) (*remediation.Report, error) {
	rec := audit.Record{Actor: approval.SystemActor.ID, Action: ActionPolicyRun, Target: "policies", Where: audit.WhereScheduler}
	pols, err := r.Policies()
	if err != nil {
		rec.Outcome = "not run: the policies do not load"
		rec.Details = map[string]string{"error": r.relative(err.Error())}
		r.record(ctx, rec)
		return nil, err
	}
	rep, err := remediation.RunPolicies(ctx, pols, r.finder, r.svc, now)
	rec.Outcome = fmt.Sprintf("opened %d, skipped %d", len(rep.Opened), len(rep.Skipped))
	rec.Details = map[string]string{"policies": strconv.Itoa(len(pols))}
	if len(rep.Opened) > 0 {
		ids := make([]string, len(rep.Opened))
		for i, o := range rep.Opened {
			ids[i] = o.ProposalID
		}
		rec.Details["proposals"] = strings.Join(ids, ",")
	}
	if err != nil {
		rec.Outcome += "; some policies failed"
		rec.Details["error"] = r.relative(err.Error())
	}
	r.record(ctx, rec)
	return rep, err
}

// Expire moves proposals past their deadline on; the periodic expiry tick
// calls it. The approval service audits each change.
func (r *PolicyRunner) Expire(ctx context.Context) ([]string, error) {
	return r.svc.Expire(ctx)
}

// record appends rec; a failure is logged, since the run it describes
// already happened.
func (r *PolicyRunner) record(ctx context.Context, rec audit.Record) {
	if _, err := r.audit.Append(context.WithoutCancel(ctx), rec); err != nil {
		r.log.Error("audit of a policy run failed", "err", err, "outcome", rec.Outcome)
	}
}

// relative drops the server's directory from messages that name files.
func (r *PolicyRunner) relative(msg string) string {
	return strings.ReplaceAll(msg, filepath.Clean(r.dir)+string(filepath.Separator), "")
}

// policyName is remediation's rule for names; checking it here first keeps
// a path parameter from ever naming a file outside the directory.
var policyName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// InputError is a refused request: Field names what was wrong.
type InputError struct {
	Field string
	Msg   string
	Err   error // the category (remediation.ErrInvalid...), for errors.Is
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }

// PutResult is what PutPolicy did.
type PutResult struct {
	Policy  *remediation.Policy
	Created bool
}

// PutPolicy validates body as the policy called name and writes it
// atomically (temporary file, fsync, rename), into the file that already
// holds that policy or else <name>.yaml. The write is audited before the
// rename: if the audit fails nothing changes.
func (r *PolicyRunner) PutPolicy(ctx context.Context, name string, body []byte, by approval.Actor) (*PutResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := audit.Record{Actor: by.ID, Action: ActionPolicyPut, Target: "policy:" + name, Where: by.Where}
	refuse := func(err error) (*PutResult, error) {
		rec.Outcome = "refused: " + err.Error()
		r.recordRequest(ctx, rec)
		return nil, err
	}
	if !policyName.MatchString(name) {
		return refuse(&InputError{Field: "name", Msg: fmt.Sprintf("%q must be lower-case letters, digits, - or _", name), Err: remediation.ErrInvalid})
	}
	file := name + ".yaml"
	pol, err := remediation.ParsePolicy(file, body, ValidatePlan)
	if err != nil {
		return refuse(&InputError{Msg: strings.TrimPrefix(err.Error(), "remediation: "), Err: err})
	}
	if pol.Name != name {
		return refuse(&InputError{Field: "name", Msg: fmt.Sprintf("%q in the body differs from %q in the path", pol.Name, name), Err: remediation.ErrInvalid})
	}
	if err := r.checkGroups(pol); err != nil {
		return refuse(err)
	}
	current, err := r.Policies()
	if err != nil {
		return refuse(fmt.Errorf("%w: the policies directory does not load; fix it first: %s", ErrConflict, r.relative(err.Error())))
	}
	target := filepath.Join(r.dir, file)
	created := true
	for _, p := range current {
		switch {
		case p.Name == name:
			target, created = p.File, false
		case filepath.Base(p.File) == file:
			return refuse(fmt.Errorf("%w: %s holds policy %q", ErrConflict, file, p.Name))
		}
	}
	sum := sha256.Sum256(body)
	rec.Outcome = "replaced"
	if created {
		rec.Outcome = "created"
	}
	rec.Details = map[string]string{"file": filepath.Base(target), "sha256": hex.EncodeToString(sum[:]), "stages": strconv.Itoa(len(pol.Stages))}
	audited := false
	err = writeAtomic(target, body, func() error {
		_, err := r.audit.Append(ctx, rec)
		audited = err == nil
		return err
	})
	if err != nil && audited {
		r.commitFailed(ctx, rec, err)
	}
	if err != nil {
		return nil, fmt.Errorf("workflow: put policy %s: %w", name, err)
	}
	pol.File = target
	return &PutResult{Policy: pol, Created: created}, nil
}

// checkGroups refuses approver groups nobody is in: every proposal of
// such a stage would be refused at run time for want of approvers.
func (r *PolicyRunner) checkGroups(pol *remediation.Policy) error {
	if r.groups == nil {
		return nil
	}
	for i, st := range pol.Stages {
		for _, f := range [][2]string{{"group", st.Approvers.Group}, {"escalate_to", st.Approvers.EscalateTo}} {
			if g := f[1]; g != "" && len(r.groups.Members(g)) == 0 {
				return &InputError{Field: fmt.Sprintf("stages[%d].approvers.%s", i, f[0]),
					Msg: fmt.Sprintf("approver group %q is not configured or has no members", g), Err: remediation.ErrInvalid}
			}
		}
	}
	return nil
}

// DeletePolicy removes the file holding the policy called name. Its open
// proposals stay in the approval store and are decided as before; only
// new stages stop.
func (r *PolicyRunner) DeletePolicy(ctx context.Context, name string, by approval.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := audit.Record{Actor: by.ID, Action: ActionPolicyDelete, Target: "policy:" + name, Where: by.Where}
	if !policyName.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrPolicyNotFound, name)
	}
	target := ""
	if current, err := r.Policies(); err == nil {
		for _, p := range current {
			if p.Name == name {
				target = p.File
			}
		}
	} else {
		// A directory that does not load may be fixed by deleting the
		// file named after the policy.
		for _, ext := range []string{".yaml", ".yml"} {
			if f := filepath.Join(r.dir, name+ext); fileExists(f) {
				target = f
			}
		}
	}
	if target == "" {
		return fmt.Errorf("%w: %q", ErrPolicyNotFound, name)
	}
	rec.Outcome = "deleted"
	rec.Details = map[string]string{"file": filepath.Base(target)}
	if _, err := r.audit.Append(ctx, rec); err != nil {
		return fmt.Errorf("workflow: delete policy %s: audit: %w", name, err)
	}
	if err := os.Remove(target); err != nil {
		r.commitFailed(ctx, rec, err)
		return fmt.Errorf("workflow: delete policy %s: %w", name, err)
	}
	syncDir(r.dir)
	return nil
}

// recordRequest audits a refused request; the refusal is returned to the
// caller either way, so a failed append is only logged.
func (r *PolicyRunner) recordRequest(ctx context.Context, rec audit.Record) {
	if _, err := r.audit.Append(ctx, rec); err != nil {
		r.log.Error("audit of a refused request failed", "err", err, "action", rec.Action, "target", rec.Target)
	}
}

func (r *PolicyRunner) commitFailed(ctx context.Context, rec audit.Record, cause error) {
	commitFailed(ctx, r.audit, r.log, rec, cause)
}

// commitFailed follows an audit record whose change then did not happen,
// so the log stays truthful.
func commitFailed(ctx context.Context, a Auditor, log *slog.Logger, rec audit.Record, cause error) {
	_, err := a.Append(context.WithoutCancel(ctx), audit.Record{Actor: rec.Actor, Action: audit.ActionCommitFailed, Target: rec.Target, Where: rec.Where,
		Outcome: "previous record did not take effect", Details: map[string]string{"error": cause.Error()}})
	if err != nil {
		log.Error("audit of a failed change failed", "err", err, "cause", cause)
	}
}

// writeAtomic replaces path with data: a synced temporary file in the same
// directory, then before (the audit; its error aborts), then a rename and
// a sync of the directory. A crash leaves the old file or the new one.
func writeAtomic(path string, data []byte, before func() error) error {
	dir := filepath.Dir(path)
	// The temporary name does not end in .yaml, so a concurrent load never
	// reads a half-written policy.
	tmp, err := os.CreateTemp(dir, ".policy-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := before(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir persists renames and removals in dir; without it a power loss
// can bring back the old directory entry.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
