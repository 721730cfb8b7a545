package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/query"
)

func TestFinder(t *testing.T) {
	ix := loadIndex(t)
	tests := []struct {
		name string
		plan string
		ids  []string
		err  string
	}{
		{"admin service accounts, every match", `{"version":1,"kinds":["service_account"],"filters":[{"field":"privilege","op":"eq","value":"admin"}]}`,
			[]string{ciDeployer, pgETL}, ""},
		{"an explicit limit is honoured", `{"version":1,"kinds":["service_account"],"filters":[{"field":"privilege","op":"eq","value":"admin"}],"limit":1}`,
			[]string{ciDeployer}, ""},
		{"who_can selects identities", `{"version":1,"kinds":["service_account"],"sources":["aws"],"who_can":{"action":"s3:GetObject","resource":"arn:aws:s3:::backups/x"}}`,
			[]string{backupAgent, ciDeployer}, ""},
		{"a grouped plan selects no identities", `{"version":1,"group_by":["source"]}`, nil, "plan.group_by"},
		{"a reach plan selects grants", `{"version":1,"reach":{"from":"ci-deployer"}}`, nil, "plan.reach"},
		{"an unknown field", `{"version":1,"filter":[]}`, nil, `unknown field "filter"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Finder{Graph: testgraph.NewSource(ix)}
			got, err := f.Find(context.Background(), json.RawMessage(tt.plan), t0)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if ValidatePlan(json.RawMessage(tt.plan)) == nil {
					t.Error("ValidatePlan accepts a plan Find refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tg := range got {
				ids = append(ids, tg.ID)
				if len(tg.Why) == 0 || tg.Name == "" || tg.Source == "" {
					t.Errorf("thin snapshot %+v", tg)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.ids) {
				t.Fatalf("ids %v, want %v", ids, tt.ids)
			}
		})
	}
	t.Run("more matches than one run takes is an error, not a cut", func(t *testing.T) {
		sg := &graph.Subgraph{Source: "aws:222222222222"}
		for i := range query.MaxLimit + 1 {
			sg.AddNode(graph.Node{ID: fmt.Sprintf("aws:222222222222:user/u%05d", i), Kind: graph.KindServiceAccount, Name: fmt.Sprintf("u%05d", i)})
		}
		f := &Finder{Graph: testgraph.NewSource(graph.Build([]*graph.Subgraph{sg}))}
		_, err := f.Find(context.Background(), json.RawMessage(`{"version":1}`), t0)
		if err == nil || !strings.Contains(err.Error(), "matches 10001 targets") {
			t.Fatalf("err = %v", err)
		}
	})
}

func copyPolicies(t *testing.T, files ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata/policies", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (e *env) runner(t *testing.T, dir string) *PolicyRunner {
	t.Helper()
	r, err := NewPolicyRunner(PolicyRunnerOptions{Dir: dir, Finder: &Finder{Graph: e.graph}, Approvals: e.svc, Audit: e.log, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPolicyRunner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dir := copyPolicies(t, "idle-admins.yaml")
	r := e.runner(t, dir)

	rep, err := r.RunAfterSync(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, o := range rep.Opened {
		targets = append(targets, o.Target)
		p, err := e.svc.Get(ctx, o.ProposalID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != approval.StateProposed || p.Rule.Required != 2 || p.Rule.Group != "secops" || p.Requester != "policy:idle-admins" {
			t.Errorf("opened %+v", p)
		}
	}
	slices.Sort(targets)
	if want := []string{ciDeployer, pgETL}; !slices.Equal(targets, want) {
		t.Fatalf("opened for %v, want %v", targets, want)
	}

	rep, err = r.RunAfterSync(ctx, e.clock.Now())
	if err != nil || len(rep.Opened) != 0 || len(rep.Skipped) != 2 {
		t.Fatalf("second run = %+v, %v; want both skipped as open", rep, err)
	}

	e.clock.Advance(3*day + 1)
	expired, err := r.Expire(ctx)
	if err != nil || len(expired) != 2 {
		t.Fatalf("Expire = %v, %v", expired, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: broken\nstages: []\nplan: {version: 1}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunAfterSync(ctx, e.clock.Now()); err == nil || !strings.Contains(err.Error(), "broken.yaml: stages") {
		t.Fatalf("run over a broken directory: %v", err)
	}

	var runs []string
	for _, rec := range e.records(t) {
		if rec.Action == ActionPolicyRun {
			if rec.Actor != approval.SystemActor.ID || rec.Where != audit.WhereScheduler {
				t.Errorf("run record %+v", rec)
			}
			runs = append(runs, rec.Outcome)
			if strings.Contains(rec.Details["error"], dir) {
				t.Errorf("the audit names the server's directory: %q", rec.Details["error"])
			}
		}
	}
	want := []string{"opened 2, skipped 0", "opened 0, skipped 2", "not run: the policies do not load"}
	if !slices.Equal(runs, want) {
		t.Errorf("run records %q, want %q", runs, want)
	}
}
