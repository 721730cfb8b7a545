package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph/derive/ownership"
	"github.com/steward-oss/steward/remediation/action"
	"github.com/steward-oss/steward/server"
	"github.com/steward-oss/steward/tools"
)

// testKey is the API key of the test server; its SHA-256 is configured.
const (
	testKey     = "foo"
	testKeyHash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" // sha256("foo")
)

// fakePlanner plans every action as one call naming it, except for the
// targets in fail.
type fakePlanner struct{ fail map[string]error }

func (f fakePlanner) Plan(_ context.Context, a connectors.Action) ([]connectors.Step, error) {
	if err := f.fail[a.Target]; err != nil {
		return nil, err
	}
	keys := slices.Sorted(maps.Keys(a.Params))
	var ps []string
	for _, k := range keys {
		ps = append(ps, k+"="+a.Params[k])
	}
	return []connectors.Step{{Call: fmt.Sprintf("%s %s [%s]", a.Type, a.Target, strings.Join(ps, " "))}}, nil
}

type countingReloader struct{ n atomic.Int32 }

func (r *countingReloader) Reload(context.Context) error { r.n.Add(1); return nil }

type apiFixture struct {
	*env
	ts        *httptest.Server
	overrides string
	reloads   *countingReloader
	policies  string
	// proposal ids: one proposed (backup-agent), one approved
	// notification, one proposed whose planning fails (svc-web).
	proposed, notified, unplannable string
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	e := newEnv(t)
	f := &apiFixture{env: e, overrides: filepath.Join(t.TempDir(), "owners.json"), reloads: &countingReloader{}}
	f.policies = copyPolicies(t)
	owners, err := NewOwners(OwnersOptions{Store: ownership.NewStore(f.overrides), Reloader: f.reloads, Graph: e.graph, Audit: e.log, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	api, err := NewAPI(APIOptions{
		Proposals: e.svc,
		Planner:   fakePlanner{fail: map[string]error{svcWeb: errors.New("ldap: no actuator for ldap:corp.example.com")}},
		Policies:  e.runner(t, f.policies),
		Owners:    owners,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{
		KeyHashes: map[string]string{"analyst": testKeyHash},
		Graph:     e.graph,
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Workflow:  api.Handlers(),
	})
	f.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(f.ts.Close)

	p := e.proposer(t, "secops")
	propose := func(id, kind string, params map[string]string) string {
		rec, err := p.Propose(context.Background(), tools.ProposalRequest{Requester: "api:analyst", Action: action.Kind(kind), Params: params,
			Justification: "fixture proposal", Targets: []tools.Target{{ID: id}}, At: t0})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(1) // distinct creation times: the list is newest first
		return rec.ID
	}
	f.proposed = propose(backupAgent, "deactivate_identity", nil)
	f.notified = propose(backupAgent, "notify_owner", nil)
	f.unplannable = propose(svcWeb, "remove_membership", map[string]string{"group": webAdmins})
	return f
}

type response struct {
	status int
	ctype  string
	body   map[string]any
}

func (f *apiFixture) do(t *testing.T, method, path, key, ctype, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return r
}

func jsonPath(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

var routes = []struct{ method, path string }{
	{"GET", "/v1/proposals"}, {"GET", "/v1/proposals/:id"}, {"GET", "/v1/proposals/:id/preview"},
	{"GET", "/v1/policies"}, {"PUT", "/v1/policies/:name"}, {"DELETE", "/v1/policies/:name"},
	{"GET", "/v1/owners"}, {"PUT", "/v1/owners/:identity"}, {"DELETE", "/v1/owners/:identity"},
}

func TestRoutesNeedAKey(t *testing.T) {
	f := newAPIFixture(t)
	for _, r := range routes {
		for _, key := range []string{"", "wrong"} {
			t.Run(r.method+" "+r.path+" key="+key, func(t *testing.T) {
				path := strings.NewReplacer(":identity", url.PathEscape(backupAgent), ":id", f.proposed, ":name", "idle-admins").Replace(r.path)
				res := f.do(t, r.method, path, key, "application/json", `{"owner_email":"carol@example.com","reason":"x"}`)
				if res.status != http.StatusUnauthorized || res.body["code"] != "unauthenticated" {
					t.Fatalf("%d %v, want 401 unauthenticated", res.status, res.body)
				}
			})
		}
	}
	if n := f.reloads.n.Load(); n != 0 {
		t.Errorf("an unauthenticated request reloaded the index %d times", n)
	}
}

func TestOpenAPIDocumentsRoutes(t *testing.T) {
	f := newAPIFixture(t)
	doc := f.do(t, "GET", "/v1/openapi.json", testKey, "", "")
	for _, r := range routes {
		p := r.path
		for _, name := range []string{"identity", "id", "name"} {
			p = strings.ReplaceAll(p, ":"+name, "{"+name+"}")
		}
		if jsonPath(doc.body, "paths", p, strings.ToLower(r.method)) == nil {
			t.Errorf("%s %s is not in openapi.json", r.method, p)
		}
	}
}

func TestProposalRoutes(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name   string
		path   string
		status int
		code   string
		check  func(t *testing.T, body map[string]any)
	}{
		{"list, newest first", "/v1/proposals", 200, "", func(t *testing.T, b map[string]any) {
			var ids []any
			for _, p := range jsonPath(b, "proposals").([]any) {
				ids = append(ids, jsonPath(p, "id"))
			}
			if want := []any{f.unplannable, f.notified, f.proposed}; !slices.Equal(ids, want) {
				t.Errorf("ids %v, want %v", ids, want)
			}
		}},
		{"filtered by state", "/v1/proposals?state=approved", 200, "", func(t *testing.T, b map[string]any) {
			ps := jsonPath(b, "proposals").([]any)
			if len(ps) != 1 || jsonPath(ps[0], "id") != f.notified {
				t.Errorf("approved: %v", ps)
			}
		}},
		{"several states", "/v1/proposals?state=approved,proposed&state=done", 200, "", func(t *testing.T, b map[string]any) {
			if n := len(jsonPath(b, "proposals").([]any)); n != 3 {
				t.Errorf("%d proposals", n)
			}
		}},
		{"unknown state", "/v1/proposals?state=pending", 400, "bad_request", nil},
		{"one, with who may decide", "/v1/proposals/" + f.proposed, 200, "", func(t *testing.T, b map[string]any) {
			if jsonPath(b, "state") != "proposed" || jsonPath(b, "requester") != "api:analyst" ||
				fmt.Sprint(jsonPath(b, "eligible")) != "[alice@example.com sam@example.com sue@example.com]" ||
				jsonPath(b, "document", "targets", 0, "owner_email") != "alice@example.com" {
				t.Errorf("proposal %v", b)
			}
		}},
		{"unknown proposal", "/v1/proposals/p-0000", 404, "not_found", nil},
		{"preview lists the planner's steps", "/v1/proposals/" + f.proposed + "/preview", 200, "", func(t *testing.T, b map[string]any) {
			if jsonPath(b, "complete") != true || jsonPath(b, "items", 0, "steps", 0, "call") != "deactivate_identity "+backupAgent+" [status=active]" {
				t.Errorf("preview %v", b)
			}
		}},
		{"preview of an action no actuator plans", "/v1/proposals/" + f.unplannable + "/preview", 200, "", func(t *testing.T, b map[string]any) {
			if jsonPath(b, "complete") != false || !strings.Contains(fmt.Sprint(jsonPath(b, "items", 0, "error")), "no actuator for ldap") {
				t.Errorf("preview %v", b)
			}
		}},
		{"preview of an unknown proposal", "/v1/proposals/p-0000/preview", 404, "not_found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, "GET", tt.path, testKey, "", "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d (%v)", res.status, tt.status, res.body)
			}
			if tt.code != "" && (res.body["code"] != tt.code || !strings.HasPrefix(res.ctype, "application/problem+json")) {
				t.Fatalf("problem %v (%s), want code %s", res.body, res.ctype, tt.code)
			}
			if tt.check != nil {
				tt.check(t, res.body)
			}
		})
	}
}

const goodPolicy = `name: idle-admins
description: admin identities without use for 30 days
plan:
  version: 1
  kinds: [service_account]
  filters:
    - {field: privilege, op: eq, value: admin}
    - {field: idle_days, op: gte, value: 30}
expiry: 3d
approvers: {group: secops, required: 2}
stages:
  - action: notify_owner
  - after: 7d
    action: deactivate_identity
`

func TestPolicyRoutes(t *testing.T) {
	f := newAPIFixture(t)
	const yamlType = "application/yaml"
	// Steps run in order: each sees what the previous ones did.
	steps := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
		detail                          []string // substrings of the problem detail
		check                           func(t *testing.T, body map[string]any)
	}{
		{name: "unknown key", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   strings.Replace(goodPolicy, "stages:", "stagez:", 1),
			status: 400, code: "invalid_policy", detail: []string{"idle-admins.yaml", "line 11", "stagez"}},
		{name: "unknown action", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   strings.Replace(goodPolicy, "action: notify_owner", "action: nuke", 1),
			status: 400, code: "invalid_policy", detail: []string{"stages[0].action", `unknown action "nuke"`}},
		{name: "broken YAML", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   "name: idle-admins\nplan: [version: 1\n",
			status: 400, code: "invalid_policy", detail: []string{"line"}},
		{name: "a plan the query package refuses", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   strings.Replace(goodPolicy, "op: gte", "op: contains", 1),
			status: 400, code: "invalid_policy", detail: []string{"plan", "filters[1].op"}},
		{name: "a grouped plan", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   strings.Replace(goodPolicy, "  kinds: [service_account]", "  group_by: [source]", 1),
			status: 400, code: "invalid_policy", detail: []string{"plan.group_by"}},
		{name: "an approver group nobody is in", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType,
			body:   strings.Replace(goodPolicy, "group: secops", "group: sec-ops", 1),
			status: 400, code: "invalid_policy", detail: []string{"stages[1].approvers.group", `"sec-ops" is not configured`}},
		{name: "body name differs from the path", method: "PUT", path: "/v1/policies/other", ctype: yamlType, body: goodPolicy,
			status: 400, code: "invalid_policy", detail: []string{"name", `"idle-admins" in the body differs from "other"`}},
		{name: "a name that is no file name", method: "PUT", path: "/v1/policies/Idle%2E%2E", ctype: yamlType, body: goodPolicy,
			status: 400, code: "invalid_policy", detail: []string{"name"}},
		{name: "JSON content type", method: "PUT", path: "/v1/policies/idle-admins", ctype: "application/json", body: goodPolicy,
			status: 415, code: "unsupported_media_type"},
		{name: "nothing was written", method: "GET", path: "/v1/policies", status: 200, check: func(t *testing.T, b map[string]any) {
			if ps := jsonPath(b, "policies").([]any); len(ps) != 0 {
				t.Errorf("policies %v", ps)
			}
		}},
		{name: "created", method: "PUT", path: "/v1/policies/idle-admins", ctype: yamlType, body: goodPolicy, status: 201,
			check: func(t *testing.T, b map[string]any) {
				if jsonPath(b, "file") != "idle-admins.yaml" || jsonPath(b, "stages", 1, "after") != "168h0m0s" {
					t.Errorf("put %v", b)
				}
			}},
		{name: "listed", method: "GET", path: "/v1/policies", status: 200, check: func(t *testing.T, b map[string]any) {
			if jsonPath(b, "policies", 0, "name") != "idle-admins" || jsonPath(b, "policies", 0, "stages", 1, "action") != "deactivate_identity" ||
				jsonPath(b, "policies", 0, "stages", 1, "approvers", "required") != 2.0 || jsonPath(b, "policies", 0, "expiry") != "72h0m0s" {
				t.Errorf("list %v", b)
			}
		}},
		{name: "replaced", method: "PUT", path: "/v1/policies/idle-admins", ctype: "text/yaml",
			body: strings.Replace(goodPolicy, "expiry: 3d", "expiry: 5d", 1), status: 200},
		{name: "deleted", method: "DELETE", path: "/v1/policies/idle-admins", status: 204},
		{name: "deleted again", method: "DELETE", path: "/v1/policies/idle-admins", status: 404, code: "not_found"},
		{name: "gone from the list", method: "GET", path: "/v1/policies", status: 200, check: func(t *testing.T, b map[string]any) {
			if ps := jsonPath(b, "policies").([]any); len(ps) != 0 {
				t.Errorf("policies %v", ps)
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := f.do(t, st.method, st.path, testKey, st.ctype, st.body)
			if res.status != st.status {
				t.Fatalf("status %d, want %d (%v)", res.status, st.status, res.body)
			}
			if st.code != "" && res.body["code"] != st.code {
				t.Fatalf("code %v, want %s", res.body["code"], st.code)
			}
			for _, d := range st.detail {
				if detail, _ := res.body["detail"].(string); !strings.Contains(detail, d) {
					t.Errorf("detail %q lacks %q", detail, d)
				}
			}
			if detail, _ := res.body["detail"].(string); strings.Contains(detail, f.policies) {
				t.Errorf("detail %q names the server's directory", detail)
			}
			if st.check != nil {
				st.check(t, res.body)
			}
		})
	}
	f.checkAudit(t, []string{
		ActionPolicyPut + " refused", ActionPolicyPut + " refused", ActionPolicyPut + " refused", ActionPolicyPut + " refused",
		ActionPolicyPut + " refused", ActionPolicyPut + " refused", ActionPolicyPut + " refused", ActionPolicyPut + " refused",
		ActionPolicyPut + " created", ActionPolicyPut + " replaced", ActionPolicyDelete + " deleted",
	})
}

// checkAudit compares the http records ("action outcome-prefix") with
// want; each was made by the test key.
func (f *apiFixture) checkAudit(t *testing.T, want []string) {
	t.Helper()
	var got []string
	for _, r := range f.records(t) {
		if r.Where != audit.WhereHTTP || r.Action == audit.ActionProposal {
			continue
		}
		if r.Actor != "api:analyst" {
			t.Errorf("record by %q: %+v", r.Actor, r)
		}
		outcome, _, _ := strings.Cut(r.Outcome, ":")
		got = append(got, r.Action+" "+strings.Fields(outcome)[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit\n got %q\nwant %q", got, want)
	}
}

func TestOwnerRoutes(t *testing.T) {
	f := newAPIFixture(t)
	backup := "/v1/owners/" + url.PathEscape(backupAgent)
	if !strings.Contains(backup, "%2F") {
		t.Fatalf("%s: the id's slash is not escaped, so the test would not cover decoding", backup)
	}
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string
		reloads                  int32
		owner                    string // the stored override of backup-agent after the step
	}{
		{"unknown identity", "PUT", "/v1/owners/aws:111111111111:user%2Fnobody", `{"owner_email":"carol@example.com","reason":"team lead"}`, 404, "unknown_entity", 0, ""},
		{"not an e-mail address", "PUT", backup, `{"owner_email":"carol","reason":"team lead"}`, 400, "bad_request", 0, ""},
		{"no reason", "PUT", backup, `{"owner_email":"carol@example.com","reason":" "}`, 400, "bad_request", 0, ""},
		{"unknown field", "PUT", backup, `{"owner":"carol@example.com","reason":"team lead"}`, 400, "bad_request", 0, ""},
		{"a group has no owner", "PUT", "/v1/owners/" + url.PathEscape(webAdmins), `{"owner_email":"carol@example.com","reason":"team lead"}`, 400, "bad_request", 0, ""},
		// AWS's documented example key id: a fake with a real key's shape.
		{"a secret-shaped reason", "PUT", backup, `{"owner_email":"carol@example.com","reason":"uses AKIAIOSFODNN7EXAMPLE"}`, 400, "bad_request", 0, ""},
		{"set", "PUT", backup, `{"owner_email":"Carol@Example.com","reason":"took over the backup service"}`, 200, "", 1, "carol@example.com"},
		{"set again replaces", "PUT", backup, `{"owner_email":"dave@example.com","reason":"carol moved teams"}`, 200, "", 2, "dave@example.com"},
		{"unset", "DELETE", backup, "", 204, "", 3, ""},
		{"unset again", "DELETE", backup, "", 404, "not_found", 3, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := f.do(t, st.method, st.path, testKey, "application/json", st.body)
			if res.status != st.status || (st.code != "" && res.body["code"] != st.code) {
				t.Fatalf("%d %v, want %d %s", res.status, res.body, st.status, st.code)
			}
			if n := f.reloads.n.Load(); n != st.reloads {
				t.Errorf("%d reloads, want %d", n, st.reloads)
			}
			list, err := ownership.NewStore(f.overrides).List()
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, o := range list {
				if o.Identity == backupAgent {
					got = o.OwnerEmail
					if o.SetBy != "api:analyst" || !o.SetAt.Equal(f.clock.Now()) || o.Reason == "" {
						t.Errorf("override %+v", o)
					}
				}
			}
			if got != st.owner || len(list) > 1 {
				t.Errorf("overrides %+v, want backup-agent owned by %q", list, st.owner)
			}
			if st.method == "PUT" && st.status == 200 {
				l := f.do(t, "GET", "/v1/owners", testKey, "", "")
				if jsonPath(l.body, "overrides", 0, "owner_email") != st.owner || jsonPath(l.body, "overrides", 0, "identity") != backupAgent {
					t.Errorf("GET /v1/owners = %v", l.body)
				}
			}
		})
	}
	f.checkAudit(t, []string{
		ActionOwnerSet + " refused", ActionOwnerSet + " refused", ActionOwnerSet + " refused", ActionOwnerSet + " refused",
		ActionOwnerSet + " refused", ActionOwnerSet + " owner", ActionOwnerSet + " owner", ActionOwnerUnset + " correction",
	})
}
