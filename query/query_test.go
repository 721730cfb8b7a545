package query_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func loadSmall(t *testing.T) *graph.Index {
	t.Helper()
	return testgraph.Load(t, "testdata/small.jsonl")
}

func TestQuestions(t *testing.T) {
	ix := loadSmall(t)
	tests := []struct {
		question string
		want     []string // ids of rows (or "key=count" for grouped results)
	}{
		{"admins idle 30 days", []string{"aws:111111111111:user/ci-deployer", "aws:111111111111:user/old-etl"}},
		{"service accounts with no owner", []string{"aws:111111111111:user/old-etl", "entra:t1:app/billing-sync", "k8s:prod:sa/kube-system/ops-bot"}},
		{"identities whose owner left", []string{"aws:111111111111:user/ci-deployer"}},
		{"keys older than 90 days", []string{"aws:111111111111:access-key/ci-deployer/AKIA…WXYZ", "entra:t1:secret/billing-sync/1"}},
		{"access keys older than 90 days", []string{"aws:111111111111:access-key/ci-deployer/AKIA…WXYZ"}},
		{"credentials expiring in 14 days", []string{"entra:t1:secret/billing-sync/1"}},
		{"leaked keys still active", []string{"aws:111111111111:access-key/ci-deployer/AKIA…WXYZ"}},
		{"who can read secrets", []string{"aws:111111111111:user/ci-deployer", "aws:111111111111:user/old-etl", "k8s:prod:sa/kube-system/ops-bot"}},
		{"who can assume role deploy", []string{"aws:111111111111:user/old-etl"}},
		{"count identities by source", []string{"aws=3", "entra=1", "k8s=1"}},
		{"dormant bots for a month", nil},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			p, err := planner.Plan(tt.question, nil)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			res, err := query.Execute(context.Background(), ix, p, now)
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			got := res.IDs
			if len(p.GroupBy) > 0 {
				got = nil
				for _, r := range res.Rows {
					got = append(got, r[0].(string)+"="+cellInt(r[len(r)-1]))
				}
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func cellInt(v any) string {
	f, _ := v.(float64)
	return strconv.Itoa(int(f))
}

func TestEvidenceReachesAdminGrant(t *testing.T) {
	ix := loadSmall(t)
	p, _ := planner.Plan("admins idle 30 days", nil)
	res, err := query.Execute(context.Background(), ix, p, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range res.IDs {
		// Follow evidence edges from the row's node to a grant of admin.
		reach := map[string]bool{id: true}
		found := false
		for changed := true; changed; {
			changed = false
			for _, e := range res.Evidence[i] {
				from, to := e.From, e.To
				if e.Kind == graph.EdgeAttachedTo {
					from, to = to, from
				}
				if reach[from] && !reach[to] {
					reach[to] = true
					changed = true
				}
				if reach[e.From] && e.Kind == graph.EdgeGrants && e.Props["privilege"] == "admin" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("row %s: evidence %v does not reach an admin grant", id, res.Evidence[i])
		}
	}
}

func TestReach(t *testing.T) {
	ix := loadSmall(t)
	p, err := planner.Plan("what can ci-deployer access", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := query.Execute(context.Background(), ix, p, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Rows[0][0] != "*" || res.Rows[0][3] != "admin" {
		t.Fatalf("reach rows %v", res.Rows)
	}
	if len(res.Evidence[0]) != 3 {
		t.Errorf("want member_of, attached_to, grants; got %v", res.Evidence[0])
	}
}

func TestUnknownEntitySuggests(t *testing.T) {
	ix := loadSmall(t)
	p, _ := planner.Plan("what can ci-deploer access", nil)
	_, err := query.Execute(context.Background(), ix, p, now)
	var ee *query.EntityError
	if !errors.As(err, &ee) || len(ee.Suggestions) == 0 || ee.Suggestions[0] != "ci-deployer" {
		t.Fatalf("want did-you-mean ci-deployer, got %v", err)
	}
}

func TestPlanValidation(t *testing.T) {
	tests := []struct {
		name, plan, want string
	}{
		{"version", `{"version":2}`, "plan.version"},
		{"unknown field", `{"version":1,"filters":[{"field":"colour","op":"eq","value":"x"}]}`, "plan.filters[0].field"},
		{"bad op", `{"version":1,"filters":[{"field":"idle_days","op":"contains","value":3}]}`, "plan.filters[0].op"},
		{"bad value", `{"version":1,"filters":[{"field":"idle_days","op":"gte","value":"x"}]}`, "plan.filters[0].value"},
		{"bad kind", `{"version":1,"kinds":["robot"]}`, "plan.kinds[0]"},
		{"limit", `{"version":1,"limit":100000}`, "plan.limit"},
		{"depth", `{"version":1,"reach":{"from":"x","max_depth":99}}`, "plan.reach.max_depth"},
		{"unknown key", `{"version":1,"colour":"red"}`, "unknown field"},
		{"group", `{"version":1,"group_by":["name"]}`, "plan.group_by[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := query.Parse([]byte(tt.plan))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error naming %q", err, tt.want)
			}
		})
	}
}

// TestFieldIntrospection keeps the exported field facts (used to build the
// agent's tool schemas) in step with what Validate accepts.
func TestFieldIntrospection(t *testing.T) {
	all := map[string]bool{}
	for _, op := range query.Ops() {
		all[op] = true
	}
	for _, f := range append(query.FieldNames(), "tag:KEY", "attr:KEY") {
		if _, ok := query.FieldType(f); !ok {
			t.Fatalf("%s: no type", f)
		}
		field := strings.Replace(f, "KEY", "team", 1)
		for _, op := range query.Ops() {
			p := query.Plan{Version: query.Version, Filters: []query.Filter{{Field: field, Op: op}}}
			err := p.Validate()
			var fe *query.FieldError
			rejectedOp := errors.As(err, &fe) && fe.Field == "filters[0].op"
			listed := slices.Contains(query.FieldOps(f), op)
			if listed == rejectedOp {
				t.Errorf("%s %s: listed %v but Validate says %v", f, op, listed, err)
			}
		}
		for _, op := range query.FieldOps(f) {
			if !all[op] {
				t.Errorf("%s: op %s missing from Ops()", f, op)
			}
		}
		if enum := query.FieldEnum(f); len(enum) > 0 {
			for _, v := range enum {
				p := query.Plan{Version: query.Version, Filters: []query.Filter{{Field: f, Op: "eq", Value: v}}}
				if err := p.Validate(); err != nil {
					t.Errorf("%s = %s: %v", f, v, err)
				}
			}
		}
	}
	for _, g := range query.GroupFields() {
		p := query.Plan{Version: query.Version, GroupBy: []string{strings.Replace(g, "KEY", "team", 1)}}
		if err := p.Validate(); err != nil {
			t.Errorf("group by %s: %v", g, err)
		}
	}
}
