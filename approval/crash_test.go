package approval

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/internal/fakeclock"
)

// The crash tests re-run this test binary as a child that approves a
// proposal and starts executing it, then SIGKILLs itself at a chosen
// point. The parent reopens the same bbolt file and audit log and resumes.
// "The live system" is an effects file: one line per applied action,
// fsynced, so it survives the kill and counts applications across both
// processes.
const (
	crashModeEnv = "STEWARD_APPROVAL_CRASH_MODE"
	crashDirEnv  = "STEWARD_APPROVAL_CRASH_DIR"
)

// liveSystem applies actions by appending to the effects file. It kills
// the process at killTarget, before or after applying it.
type liveSystem struct {
	dir         string
	killTarget  string
	afterEffect bool
	calls       map[string]int
}

func (l *liveSystem) Execute(_ context.Context, a connectors.Action) (connectors.Step, error) {
	if l.calls != nil {
		l.calls[a.Target]++
	}
	if a.Target == l.killTarget && !l.afterEffect {
		killSelf()
	}
	f, err := os.OpenFile(filepath.Join(l.dir, "effects"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return connectors.Step{}, err
	}
	defer f.Close()
	if _, err := f.WriteString(a.Target + "\n"); err != nil {
		return connectors.Step{}, err
	}
	if err := f.Sync(); err != nil {
		return connectors.Step{}, err
	}
	if a.Target == l.killTarget {
		killSelf()
	}
	return connectors.Step{Call: string(a.Type) + " " + a.Target, Undo: map[string]string{"target": a.Target}}, nil
}

func (l *liveSystem) effects(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.dir, "effects"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line != "" {
			n[line]++
		}
	}
	return n
}

// checkingLiveSystem adds a Checker that reads the effects file.
type checkingLiveSystem struct{ *liveSystem }

func (c checkingLiveSystem) Check(_ context.Context, a connectors.Action) (bool, connectors.Step, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "effects"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, connectors.Step{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == a.Target {
			return true, connectors.Step{Call: "observed " + a.Target, Undo: map[string]string{"target": a.Target}}, nil
		}
	}
	return false, connectors.Step{}, nil
}

func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestHelperProcess is the child of the crash tests; it does nothing in a
// normal run.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(crashModeEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv(crashDirEnv)
	store, err := OpenBolt(filepath.Join(dir, "approval.db"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(Options{Store: store, Audit: l, Groups: testGroups, Clock: fakeclock.New(t0)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, store: store, clock: fakeclock.New(t0), log: l}
	p := e.approved(t)
	if err := os.WriteFile(filepath.Join(dir, "id"), []byte(p.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	live := &liveSystem{dir: dir, killTarget: p.Actions[1].Target}
	switch mode {
	case "after-approval":
		killSelf()
	case "during-action-2-before-effect":
	case "during-action-2-after-effect":
		live.afterEffect = true
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	_, err = svc.Execute(context.Background(), p.ID, live, sam)
	t.Fatalf("helper survived execution: %v", err)
}

func runCrashChild(t *testing.T, mode, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashModeEnv+"="+mode, crashDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child did not die: %v\n%s", err, out.String())
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out.String())
	}
}

func TestCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests re-run the test binary")
	}
	tests := []struct {
		name    string
		mode    string
		checker bool
		// after reopen + Resume (+ Execute when approved):
		wantState   State
		wantUnknown bool
		wantEffects []int // applications per action across both processes
		wantCalls   []int // calls the parent's executor received per action
	}{
		{"killed between approval and execution", "after-approval", false, StateDone, false, []int{1, 1, 1}, []int{1, 1, 1}},
		{"killed during action 2 before effect, no checker", "during-action-2-before-effect", false, StateFailed, true, []int{1, 0, 0}, []int{0, 0, 0}},
		{"killed during action 2 after effect, no checker", "during-action-2-after-effect", false, StateFailed, true, []int{1, 1, 0}, []int{0, 0, 0}},
		{"killed during action 2 before effect, checker", "during-action-2-before-effect", true, StateDone, false, []int{1, 1, 1}, []int{0, 1, 1}},
		{"killed during action 2 after effect, checker", "during-action-2-after-effect", true, StateDone, false, []int{1, 1, 1}, []int{0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			runCrashChild(t, tt.mode, dir)

			idb, err := os.ReadFile(filepath.Join(dir, "id"))
			if err != nil {
				t.Fatal(err)
			}
			id := string(idb)
			store, err := OpenBolt(filepath.Join(dir, "approval.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			l, err := audit.Open(filepath.Join(dir, "audit.log"))
			if err != nil {
				t.Fatalf("audit log broken after crash: %v", err)
			}
			defer l.Close()
			svc, err := NewService(Options{Store: store, Audit: l, Groups: testGroups, Clock: fakeclock.New(t0)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			p, err := store.Get(ctx, id)
			if err != nil {
				t.Fatalf("approved proposal lost: %v", err)
			}
			if len(p.Approvals()) != 2 {
				t.Fatalf("approvals lost: %v", p.Approvals())
			}

			live := &liveSystem{dir: dir, calls: map[string]int{}}
			var exec Executor = live
			if tt.checker {
				exec = checkingLiveSystem{live}
			}
			resumed, err := svc.Resume(ctx, exec, Actor{ID: "steward", Where: audit.WhereSystem})
			if tt.wantUnknown != errors.Is(err, ErrUnknownOutcome) {
				t.Fatalf("Resume error = %v, want unknown outcome: %v", err, tt.wantUnknown)
			}
			if p.State == StateApproved {
				if len(resumed) != 0 {
					t.Fatalf("Resume touched an approved proposal")
				}
				if _, err = svc.Execute(ctx, id, exec, sam); err != nil {
					t.Fatal(err)
				}
			}
			p, _ = store.Get(ctx, id)
			if p.State != tt.wantState {
				t.Fatalf("state %s (%s), want %s", p.State, p.Reason, tt.wantState)
			}
			if tt.wantUnknown && !strings.Contains(p.Reason, "unknown outcome — needs check") {
				t.Errorf("reason %q does not say unknown outcome", p.Reason)
			}
			effects := live.effects(t)
			for i, a := range p.Actions {
				if effects[a.Target] != tt.wantEffects[i] {
					t.Errorf("action %d applied %d times, want %d", i, effects[a.Target], tt.wantEffects[i])
				}
				if live.calls[a.Target] != tt.wantCalls[i] {
					t.Errorf("action %d called %d times after restart, want %d", i, live.calls[a.Target], tt.wantCalls[i])
				}
			}
			// A second Resume finds nothing left to do.
			if again, err := svc.Resume(ctx, exec, sam); err != nil || len(again) != 0 {
				t.Errorf("second Resume = %d proposals, %v", len(again), err)
			}
			if tt.wantUnknown {
				// A person checks the live system and records what
				// happened; then rollback undoes exactly what is in effect.
				applied := effects[p.Actions[1].Target] == 1
				if _, err := svc.Rollback(ctx, id, &recorder{}, sam); !errors.Is(err, ErrUnknownOutcome) {
					t.Fatalf("rollback before resolving = %v, want ErrUnknownOutcome", err)
				}
				if _, err := svc.ResolveUnknown(ctx, id, 1, applied,
					connectors.Step{Call: "found in console", Undo: map[string]string{"target": p.Actions[1].Target}}, sam, "checked the IAM console"); err != nil {
					t.Fatal(err)
				}
				rec := &recorder{}
				if _, err := svc.Rollback(ctx, id, rec, sam); err != nil {
					t.Fatal(err)
				}
				want := []string{p.Actions[0].Target}
				if applied {
					want = []string{p.Actions[1].Target, p.Actions[0].Target}
				}
				if strings.Join(rec.undos, ",") != strings.Join(want, ",") {
					t.Errorf("undos %v, want %v", rec.undos, want)
				}
			}
			l.Close()
			if _, err := audit.VerifyFile(filepath.Join(dir, "audit.log")); err != nil {
				t.Errorf("audit log: %v", err)
			}
		})
	}
}
