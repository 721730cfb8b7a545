package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/webhooktest"
	"github.com/steward-oss/steward/remediation"
	"github.com/steward-oss/steward/slackbot"
)

const crashHookSecret = "e2e-webhook-secret-not-real-42"

// Environment of the child process.
const (
	envCrashDir      = "STEWARD_E2E_CRASH_DIR"
	envCrashMode     = "STEWARD_E2E_CRASH_MODE"
	envCrashProposal = "STEWARD_E2E_CRASH_PROPOSAL"
	envCrashHook     = "STEWARD_E2E_CRASH_HOOK"
	envCrashSecret   = "STEWARD_E2E_CRASH_SECRET_FILE"
)

const crashThread = "1700000900.000001"

// soar is the SOAR tool behind the webhook actuator. It applies each
// action at most once per idempotency key (its effects are what "ran
// twice" would show), answers check from them, and can kill the Steward
// process at a chosen call: before applying it or after.
type soar struct {
	*webhooktest.Receiver
	mu       sync.Mutex
	effects  map[string]int // idempotency key -> times applied
	killAt   int            // kill on the killAt-th execute call (1-based); 0 never
	after    bool           // kill after applying rather than before
	executes int
	pid      int
	killed   bool
}

func newSoar(killAt int, after bool) *soar {
	s := &soar{Receiver: &webhooktest.Receiver{Secret: []byte(crashHookSecret)}, effects: map[string]int{}, killAt: killAt, after: after}
	s.Answer = s.answer
	return s
}

func (s *soar) answer(req actuate.WebhookRequest) (int, actuate.WebhookResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Op {
	case actuate.OpCheck:
		return http.StatusOK, actuate.WebhookResponse{Applied: s.effects[req.IdempotencyKey] > 0}
	case actuate.OpRollback:
		delete(s.effects, req.IdempotencyKey)
		return http.StatusOK, actuate.WebhookResponse{}
	}
	s.executes++
	kill := s.killAt > 0 && s.executes == s.killAt && !s.killed
	if kill && !s.after {
		s.kill()
		return http.StatusServiceUnavailable, actuate.WebhookResponse{} // steward went away
	}
	// Every execute call applies: a repeated call would show as a
	// second effect.
	s.effects[req.IdempotencyKey]++
	if kill {
		s.kill()
	}
	return http.StatusOK, actuate.WebhookResponse{Call: "disabled " + req.Action.Target}
}

// kill SIGKILLs the Steward child mid-call (its process is gone before
// it reads the answer).
func (s *soar) kill() {
	s.killed = true
	if s.pid > 0 {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
	}
}

var crashTargets = []string{"aws:111111111111:user/ci-deployer", "aws:111111111111:user/old-etl", "aws:111111111111:user/backup-agent"}

// TestCrashResume kills the Steward process (a child re-run of this test
// binary serving the Slack endpoints) after an approver's click: between
// approval and execution, and during the second action before and after
// the SOAR tool applied it. A restarted process resumes; every action is
// applied exactly once and the approval is kept.
func TestCrashResume(t *testing.T) {
	tests := []struct {
		name   string
		mode   string // child's mode
		killAt int
		after  bool
		// wantExecutes is how many execute calls the tool sees in all.
		wantExecutes int
	}{
		{name: "between approval and execution", mode: "between", wantExecutes: 3},
		{name: "during an action, before its effect", mode: "during", killAt: 2, wantExecutes: 4},
		{name: "during an action, after its effect", mode: "during", killAt: 2, after: true, wantExecutes: 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			tool := newSoar(tt.killAt, tt.after)
			hook := httptest.NewServer(tool)
			t.Cleanup(hook.Close)
			secret := writeFile(t, dir, "hook.key", crashHookSecret+"\n")
			actuators := crashActuators(hook.URL, secret)

			// The proposal, as a Slack "remediate" leaves it.
			st0 := newStack(t, stackOptions{dir: dir, actuators: actuators})
			p, err := remediation.Submit(ctx, st0.svc, crashProposal(), approval.Actor{ID: "alice@example.com", Where: audit.WhereSlack})
			if err != nil {
				t.Fatal(err)
			}
			st0.close()

			// The child approves through the signed click and dies.
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashMode+"="+tt.mode, envCrashProposal+"="+p.ID,
				envCrashHook+"="+hook.URL, envCrashSecret+"="+secret,
				// A killed child cannot remove its temporary files.
				"TMPDIR="+t.TempDir())
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tool.mu.Lock()
			tool.pid = cmd.Process.Pid
			tool.mu.Unlock()
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed (err %v):\n%s", err, out.String())
			}

			beforeRestart := len(tool.Calls())
			if beforeRestart != tt.killAt {
				t.Fatalf("the child died after %d calls to the tool, want %d", beforeRestart, tt.killAt)
			}

			// Restart: the same store and log, a new process's bot.
			st := newStack(t, stackOptions{dir: dir, actuators: actuators})
			before := st.proposal(p.ID)
			if n := len(before.Approvals()); n != 1 || before.Approvals()[0] != "carol@example.com" {
				t.Fatalf("approval lost in the crash: %v (state %s)", before.Approvals(), before.State)
			}
			if err := st.bot.Resume(ctx); err != nil {
				t.Fatalf("resume: %v", err)
			}
			after := st.proposal(p.ID)
			if after.State != approval.StateDone {
				t.Fatalf("after resume: %s (%s)", after.State, after.Reason)
			}
			ops := tool.Ops() // before tool.mu: the receiver locks its own, then tool.mu
			tool.mu.Lock()
			defer tool.mu.Unlock()
			for i, a := range after.Actions {
				if n := tool.effects[actuate.IdempotencyKey(a)]; n != 1 {
					t.Errorf("action %d (%s) applied %d times, want once; calls %v", i, a.Target, n, ops)
				}
			}
			executes := 0
			for _, c := range ops {
				if strings.HasPrefix(c, actuate.OpExecute+" ") {
					executes++
				}
			}
			if executes != tt.wantExecutes {
				t.Errorf("execute calls = %d, want %d: %v", executes, tt.wantExecutes, ops)
			}
			posted := strings.Join(st.slack.Texts("chat.postMessage"), "\n")
			if !strings.Contains(posted, p.ID+": done") {
				t.Errorf("no result posted after resume: %s", posted)
			}
			st.close()
			if _, err := audit.VerifyFile(st.auditLog); err != nil {
				t.Fatalf("audit after crash and resume: %v", err)
			}
		})
	}
}

func crashActuators(url, secretFile string) []config.Actuator {
	return []config.Actuator{{Source: "aws:111111111111", Type: "webhook",
		Options: map[string]string{"url": url, "secret-file": secretFile, "check": "true"}}}
}

func crashProposal() *remediation.Proposal {
	rp := &remediation.Proposal{
		Plan:          json.RawMessage(`{"version":1,"ids":["` + strings.Join(crashTargets, `","`) + `"]}`),
		Justification: "admin service accounts idle 90 days (crash test)",
		Approvers:     remediation.Approvers{Required: 1, Group: "secops"},
		ExpiresAt:     time.Now().Add(72 * time.Hour),
		OnExpiry:      approval.ExpiryCancel,
	}
	for _, id := range crashTargets {
		rp.Targets = append(rp.Targets, remediation.Target{ID: id, Name: id[strings.LastIndex(id, "/")+1:], Kind: graph.KindServiceAccount,
			Source: "aws:111111111111", Expect: map[string]string{"status": "active"}})
		rp.Actions = append(rp.Actions, connectors.Action{Type: remediation.ActionDeactivateIdentity, Target: id})
	}
	return rp
}

// killBeforeExecute stands between the bot and the approval service and
// kills the process once the approval is recorded, before execution.
type killBeforeExecute struct{ slackbot.Approvals }

func (k killBeforeExecute) Execute(context.Context, string, approval.Executor, approval.Actor) (*approval.Proposal, error) {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestCrashChild is the Steward process TestCrashResume kills; it does
// nothing unless started by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		return
	}
	o := stackOptions{dir: dir, actuators: crashActuators(os.Getenv(envCrashHook), os.Getenv(envCrashSecret))}
	if os.Getenv(envCrashMode) == "between" {
		o.wrap = func(a slackbot.Approvals) slackbot.Approvals { return killBeforeExecute{a} }
	}
	st := newStack(t, o)
	st.send(st.clickRequest(carol, slackbot.ActionApprove, os.Getenv(envCrashProposal), crashThread))
	t.Fatalf("still alive after the approval: proposal %+v", st.proposal(os.Getenv(envCrashProposal)))
}
