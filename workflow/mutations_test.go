package workflow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph/derive/ownership"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyDirectoryStates: a write never leaves two files with one
// policy name, never overwrites another policy, and a directory that does
// not load can still be repaired by deleting the bad policy.
func TestPolicyDirectoryStates(t *testing.T) {
	f := newAPIFixture(t)
	const yamlType = "application/yaml"
	writeFile(t, filepath.Join(f.policies, "legacy.yml"), goodPolicy)
	writeFile(t, filepath.Join(f.policies, "other.yaml"), strings.Replace(goodPolicy, "name: idle-admins", "name: something-else", 1))
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string
		files                    string // the directory's *.y*ml files after the step
	}{
		{"a policy kept in another file is replaced there", "PUT", "/v1/policies/idle-admins", strings.Replace(goodPolicy, "expiry: 3d", "expiry: 5d", 1), 200, "", "legacy.yml other.yaml"},
		{"a file name holding another policy", "PUT", "/v1/policies/other", strings.Replace(goodPolicy, "name: idle-admins", "name: other", 1), 409, "conflict", "legacy.yml other.yaml"},
		{"the directory stops loading (a hand edit)", "", "", "", 0, "", "broken.yaml legacy.yml other.yaml"},
		{"listing says so", "GET", "/v1/policies", "", 409, "conflict", "broken.yaml legacy.yml other.yaml"},
		{"writes are refused until it is fixed", "PUT", "/v1/policies/idle-admins", goodPolicy, 409, "conflict", "broken.yaml legacy.yml other.yaml"},
		{"the bad policy can be deleted", "DELETE", "/v1/policies/broken", "", 204, "", "legacy.yml other.yaml"},
		{"and the directory loads again", "GET", "/v1/policies", "", 200, "", "legacy.yml other.yaml"},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if i == 1 {
				if b, _ := os.ReadFile(filepath.Join(f.policies, "legacy.yml")); !strings.Contains(string(b), "expiry: 5d") {
					t.Errorf("legacy.yml was not replaced:\n%s", b)
				}
			}
			if st.method == "" {
				writeFile(t, filepath.Join(f.policies, "broken.yaml"), "name: broken\nplan: {version: 1}\nstages: [{action: nuke}]\n")
			} else {
				res := f.do(t, st.method, st.path, testKey, yamlType, st.body)
				if res.status != st.status || (st.code != "" && res.body["code"] != st.code) {
					t.Fatalf("%d %v, want %d %s", res.status, res.body, st.status, st.code)
				}
				if d, _ := res.body["detail"].(string); strings.Contains(d, f.policies) {
					t.Errorf("detail %q names the server's directory", d)
				}
			}
			var files []string
			for _, pat := range []string{"*.yaml", "*.yml", ".*"} {
				m, _ := filepath.Glob(filepath.Join(f.policies, pat))
				for _, x := range m {
					files = append(files, filepath.Base(x))
				}
			}
			slices.Sort(files)
			if strings.Join(files, " ") != st.files {
				t.Errorf("files %v, want %s", files, st.files)
			}
		})
	}
}

// failingAuditor refuses records of one action, as a full disk would.
type failingAuditor struct {
	*audit.Log
	action string
	calls  atomic.Int32
}

func (a *failingAuditor) Append(ctx context.Context, r audit.Record) (audit.Record, error) {
	if r.Action == a.action {
		a.calls.Add(1)
		return audit.Record{}, errors.New("disk full")
	}
	return a.Log.Append(ctx, r)
}

// TestNoUnauditedChange: when the audit record cannot be written, the
// change is not made.
func TestNoUnauditedChange(t *testing.T) {
	by := approval.Actor{ID: "api:analyst", Where: audit.WhereHTTP}
	ctx := context.Background()
	t.Run("policy put", func(t *testing.T) {
		e := newEnv(t)
		dir := copyPolicies(t)
		fa := &failingAuditor{Log: e.log, action: ActionPolicyPut}
		r, err := NewPolicyRunner(PolicyRunnerOptions{Dir: dir, Finder: &Finder{Graph: e.graph}, Approvals: e.svc, Audit: fa})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.PutPolicy(ctx, "idle-admins", []byte(goodPolicy), by); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("err = %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 || fa.calls.Load() != 1 {
			t.Fatalf("directory holds %v after an unaudited put (%d audit calls)", entries, fa.calls.Load())
		}
	})
	t.Run("policy delete", func(t *testing.T) {
		e := newEnv(t)
		dir := copyPolicies(t, "idle-admins.yaml")
		fa := &failingAuditor{Log: e.log, action: ActionPolicyDelete}
		r, err := NewPolicyRunner(PolicyRunnerOptions{Dir: dir, Finder: &Finder{Graph: e.graph}, Approvals: e.svc, Audit: fa})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.DeletePolicy(ctx, "idle-admins", by); err == nil {
			t.Fatal("deleted without an audit record")
		}
		if _, err := os.Stat(filepath.Join(dir, "idle-admins.yaml")); err != nil {
			t.Fatalf("file gone: %v", err)
		}
	})
	t.Run("owner set", func(t *testing.T) {
		e := newEnv(t)
		path := filepath.Join(t.TempDir(), "owners.json")
		rl := &countingReloader{}
		fa := &failingAuditor{Log: e.log, action: ActionOwnerSet}
		w, err := NewOwners(OwnersOptions{Store: ownership.NewStore(path), Reloader: rl, Graph: e.graph, Audit: fa, Clock: e.clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Set(ctx, backupAgent, "carol@example.com", "took over", by); err == nil {
			t.Fatal("set without an audit record")
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) || rl.n.Load() != 0 {
			t.Fatalf("overrides file written (%v) or index reloaded (%d)", err, rl.n.Load())
		}
	})
}
