package workflow

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/internal/testgraph"
	"github.com/steward-oss/steward/query"
)

// TestFromAnswer: Slack's `remediate` turns every row of the thread's
// previous answer into one action, refuses what it cannot propose with
// words for the analyst, and snapshots each target from the graph.
func TestFromAnswer(t *testing.T) {
	const (
		ci  = "aws:111111111111:user/ci-deployer"
		key = "aws:111111111111:access-key/ci-deployer/AKIA…WXYZ"
		etl = "postgres:orders:role/etl"
		web = "ldap:corp.example.com:cn=svc-web,ou=services,dc=corp,dc=example,dc=com" // owned by departed bob only
	)
	rows := func(ids ...string) *chat.Answer {
		a := &chat.Answer{Columns: []string{"name", "id"}, Total: len(ids)}
		for _, id := range ids {
			a.Rows = append(a.Rows, []any{"x", id})
		}
		return a
	}
	ix := loadIndex(t)
	tests := []struct {
		name        string
		graph       IndexSource
		answer      *chat.Answer
		args        string
		wantRefusal string
		wantActions []string // type target
		wantOwner   []string
		wantJust    string
	}{
		{name: "no answer", answer: nil, wantRefusal: "Ask a question in this thread first"},
		{name: "no id column", answer: &chat.Answer{Columns: []string{"name"}, Rows: [][]any{{"x"}}, Total: 1}, wantRefusal: "lists no identities"},
		{name: "rows cut", answer: &chat.Answer{Columns: []string{"id"}, Rows: [][]any{{ci}}, Total: 5}, wantRefusal: "shows 1 of 5 rows"},
		{name: "delete refused", answer: rows(ci), args: "delete now", wantRefusal: "Deletion is not proposed from Slack"},
		{name: "action with parameters", answer: rows(ci), args: "revoke_grant x", wantRefusal: "revoke_grant needs parameters"},
		{name: "no graph", graph: testgraph.NewSource(nil), answer: rows(ci), wantRefusal: "No graph is loaded."},
		{name: "gone from the graph", answer: rows("aws:111111111111:user/nobody"), wantRefusal: "no longer in the graph"},
		{name: "default actions by kind, departed owner (bob) skipped, credential owned through its holder", answer: rows(ci, key, etl, web),
			wantActions: []string{"deactivate_identity " + ci, "disable_credential " + key, "deactivate_identity " + etl, "deactivate_identity " + web},
			wantOwner:   []string{"alice@example.com", "alice@example.com", "alice@example.com", ""},
			wantJust:    `Requested in Slack by carol@example.com for the result of "admins idle 30 days"`},
		{name: "named action and justification", answer: rows(ci), args: "notify_owner  ask them first",
			wantActions: []string{"notify_owner " + ci}, wantOwner: []string{"alice@example.com"}, wantJust: "ask them first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.graph
			if g == nil {
				g = testgraph.NewSource(ix)
			}
			rp, err := FromAnswer(g, AnswerRequest{Answer: tt.answer, Question: "admins idle 30 days", Args: tt.args,
				Requester: "carol@example.com", Required: 2, Group: "secops", ExpiresAt: t0.Add(7 * day)})
			if tt.wantRefusal != "" {
				var r *AnswerRefusal
				if rp != nil || !errors.As(err, &r) || !strings.Contains(r.Message, tt.wantRefusal) {
					t.Fatalf("FromAnswer = %v, %v; want refusal %q", rp, err, tt.wantRefusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got, owners []string
			for i, a := range rp.Actions {
				got = append(got, string(a.Type)+" "+a.Target)
				owners = append(owners, rp.Targets[i].OwnerEmail)
				if n, _ := ix.Lookup(a.Target); !maps.Equal(rp.Targets[i].Expect, actuate.Expect(new(ix.Node(n)))) {
					t.Errorf("target %s expect = %v", a.Target, rp.Targets[i].Expect)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.wantActions, "|") || strings.Join(owners, "|") != strings.Join(tt.wantOwner, "|") {
				t.Fatalf("actions %v owners %v; want %v %v", got, owners, tt.wantActions, tt.wantOwner)
			}
			if rp.Justification != tt.wantJust || rp.Approvers.Required != 2 || rp.Approvers.Group != "secops" || !rp.ExpiresAt.Equal(t0.Add(7*day)) {
				t.Fatalf("proposal = %+v", rp)
			}
			var plan query.Plan
			if err := json.Unmarshal(rp.Plan, &plan); err != nil || len(plan.IDs) != len(tt.wantActions) {
				t.Fatalf("plan %s: %v", rp.Plan, err)
			}
		})
	}
}
