package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	gh "github.com/google/go-github/v82/github"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
)

const (
	actToken     = "ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000" // obviously fake
	actUserToken = "ghp_FAKEUSERFAKEUSERFAKEUSERFAKEUSER0000"
	// hex SHA-256 of the public key blob in testdata/org/keys/deploy-infra.json
	fp101  = "ceba137436e9dbf42815e425b55c226a85c1e8f940d01b40646e47710c14e762"
	actSrc = "github:" + org
)

// fakeGitHub is the live state of the org as the REST API shows it. It
// answers the actuator's endpoints with the fixtures' JSON, applies the
// writes, and records every request.
type fakeGitHub struct {
	t          *testing.T
	mu         sync.Mutex
	keys       map[string][]*gh.Key // repo -> deploy keys
	nextKeyID  int64
	installs   json.RawMessage // the installations page, mutable by tests
	repo       json.RawMessage // GET /repos/{org}/Hello-World
	instRepos  map[int64][]json.RawMessage
	selection  map[int64]string
	pats       []*gh.PersonalAccessToken
	requests   []string // "METHOD /path"
	bodies     []string
	keyPosts   []string        // bodies of POST .../keys, kept across reset
	userPaths  map[string]bool // requests that came with the user token
	wrongToken bool
}

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newFake(t *testing.T) (*fakeGitHub, *httptest.Server) {
	t.Helper()
	f := &fakeGitHub{t: t, keys: map[string][]*gh.Key{}, nextKeyID: 5000, userPaths: map[string]bool{},
		instRepos: map[int64][]json.RawMessage{}, selection: map[int64]string{4242001: "selected", 957387: "all"}}
	var keys []*gh.Key
	if err := json.Unmarshal(readFixture(t, "testdata/org/keys/deploy-infra.json"), &keys); err != nil {
		t.Fatal(err)
	}
	f.keys["deploy-infra"] = keys
	if err := json.Unmarshal(readFixture(t, "testdata/org/personal-access-tokens.json"), &f.pats); err != nil {
		t.Fatal(err)
	}
	f.installs = readFixture(t, "testdata/actuator/installations.json")
	f.repo = readFixture(t, "testdata/actuator/repo-Hello-World.json")
	var lr struct {
		Repositories []json.RawMessage `json:"repositories"`
	}
	if err := json.Unmarshal(readFixture(t, "testdata/actuator/installation-repositories.json"), &lr); err != nil {
		t.Fatal(err)
	}
	f.instRepos[4242001] = lr.Repositories
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	if raw, ok := v.(json.RawMessage); ok {
		w.Write(raw)
		return
	}
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(code)})
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.bodies = append(f.bodies, string(body))
	switch r.Header.Get("Authorization") {
	case "Bearer " + actToken:
	case "Bearer " + actUserToken:
		f.userPaths[r.URL.Path] = true
	default:
		f.wrongToken = true
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	route := r.Method + " " + strings.Join(parts, "/")
	switch {
	case len(parts) == 5 && parts[0] == "repos" && parts[1] == org && parts[3] == "keys":
		f.key(w, r.Method, parts[2], parts[4])
	case len(parts) == 4 && parts[0] == "repos" && parts[1] == org && parts[3] == "keys":
		f.keyList(w, r.Method, parts[2], body)
	case route == "GET repos/"+org+"/Hello-World":
		writeJSON(w, http.StatusOK, f.repo)
	case route == "GET orgs/"+org+"/installations":
		writeJSON(w, http.StatusOK, f.installs)
	case len(parts) == 4 && parts[0] == "user" && parts[1] == "installations" && parts[3] == "repositories" && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(f.instRepos[id]), "repository_selection": f.selection[id], "repositories": f.instRepos[id]})
	case len(parts) == 5 && parts[0] == "user" && parts[1] == "installations" && parts[3] == "repositories":
		f.instRepo(w, r.Method, parts[2], parts[4])
	case route == "GET orgs/"+org+"/personal-access-tokens":
		writeJSON(w, http.StatusOK, f.pats)
	case len(parts) == 4 && r.Method == http.MethodPost && parts[0] == "orgs" && parts[1] == org && parts[2] == "personal-access-tokens":
		var req struct {
			Action string `json:"action"`
		}
		id, _ := strconv.ParseInt(parts[3], 10, 64)
		if json.Unmarshal(body, &req) != nil || req.Action != "revoke" {
			apiError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		for i, p := range f.pats {
			if p.GetID() == id {
				f.pats = append(f.pats[:i], f.pats[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		apiError(w, http.StatusNotFound, "Not Found")
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

func (f *fakeGitHub) key(w http.ResponseWriter, method, repo, idStr string) {
	id, _ := strconv.ParseInt(idStr, 10, 64)
	for i, k := range f.keys[repo] {
		if k.GetID() != id {
			continue
		}
		switch method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, k)
		case http.MethodDelete:
			f.keys[repo] = append(f.keys[repo][:i], f.keys[repo][i+1:]...)
			w.WriteHeader(http.StatusNoContent)
		default:
			apiError(w, http.StatusNotFound, "Not Found")
		}
		return
	}
	apiError(w, http.StatusNotFound, "Not Found")
}

func (f *fakeGitHub) keyList(w http.ResponseWriter, method, repo string, body []byte) {
	switch method {
	case http.MethodGet:
		list := f.keys[repo]
		if list == nil {
			list = []*gh.Key{}
		}
		writeJSON(w, http.StatusOK, list)
	case http.MethodPost:
		f.keyPosts = append(f.keyPosts, string(body))
		var k gh.Key
		if err := json.Unmarshal(body, &k); err != nil || k.GetKey() == "" {
			apiError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		for _, old := range f.keys[repo] {
			if old.GetKey() == k.GetKey() {
				apiError(w, http.StatusUnprocessableEntity, "key is already in use")
				return
			}
		}
		f.nextKeyID++
		k.ID = gh.Ptr(f.nextKeyID)
		k.URL = gh.Ptr(fmt.Sprintf("https://api.github.com/repos/%s/%s/keys/%d", org, repo, f.nextKeyID))
		k.Verified = gh.Ptr(true)
		k.CreatedAt = &gh.Timestamp{}
		f.keys[repo] = append(f.keys[repo], &k)
		writeJSON(w, http.StatusCreated, &k)
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

func (f *fakeGitHub) instRepo(w http.ResponseWriter, method, instStr, repoStr string) {
	inst, _ := strconv.ParseInt(instStr, 10, 64)
	rid, _ := strconv.ParseInt(repoStr, 10, 64)
	if f.selection[inst] != "selected" {
		apiError(w, http.StatusUnprocessableEntity, "Cannot modify repository access for an installation with all repositories selected")
		return
	}
	idx := -1
	for i, raw := range f.instRepos[inst] {
		var r gh.Repository
		json.Unmarshal(raw, &r)
		if r.GetID() == rid {
			idx = i
		}
	}
	switch method {
	case http.MethodDelete:
		if idx < 0 {
			apiError(w, http.StatusNotFound, "Not Found")
			return
		}
		f.instRepos[inst] = append(f.instRepos[inst][:idx], f.instRepos[inst][idx+1:]...)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if idx < 0 {
			f.instRepos[inst] = append(f.instRepos[inst], f.repo)
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

func newTestActuator(t *testing.T, url string) *Actuator {
	t.Helper()
	files := map[string]string{"/secrets/gh-token": actToken + "\n", "/secrets/gh-user-token": actUserToken}
	a, err := NewActuator(ActuatorConfig{Org: org, BaseURL: url, TokenFile: "/secrets/gh-token", UserTokenFile: "/secrets/gh-user-token",
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func keyAction() connectors.Action {
	return connectors.Action{Type: ActionDisableCredential, Target: actSrc + ":deploy_key/101",
		Params: map[string]string{ParamRepo: "deploy-infra", ParamFingerprint: fp101, ParamTitle: "terraform-ci", ParamReadOnly: "false"}}
}

func appAction() connectors.Action {
	return connectors.Action{Type: ActionRevokeGrant, Target: actSrc + ":app/release-drafter",
		Params: map[string]string{ParamInstallationID: "4242001", ParamRepository: actSrc + ":repo/Hello-World", ParamStatus: "active"}}
}

func patAction() connectors.Action {
	return connectors.Action{Type: ActionDisableCredential, Target: actSrc + ":pat/98716",
		Params: map[string]string{ParamGrantID: "25381", ParamOwner: "octokit-fixture-user-a"}}
}

func with(a connectors.Action, k, v string) connectors.Action {
	p := map[string]string{}
	for kk, vv := range a.Params {
		p[kk] = vv
	}
	if v == "" {
		delete(p, k)
	} else {
		p[k] = v
	}
	a.Params = p
	return a
}

// actSecrets are what no step or error may hold: the tokens, and any
// part of a fake token ("FAKE").
var actSecrets = []string{actToken, actUserToken, "FAKE"}

func TestActuatorPlan(t *testing.T) {
	f, srv := newFake(t)
	a := newTestActuator(t, srv.URL)
	tests := []struct {
		name     string
		act      connectors.Action
		wantCall []string
		undo     bool
	}{
		{"deploy key", keyAction(), []string{"GET /repos/" + org + "/deploy-infra/keys/101", "DELETE /repos/" + org + "/deploy-infra/keys/101", fp101}, true},
		{"app installation repository", appAction(), []string{"GET /orgs/" + org + "/installations", "GET /user/installations/4242001/repositories",
			"DELETE /user/installations/4242001/repositories/<id of " + org + "/Hello-World>"}, true},
		{"fine-grained PAT", patAction(), []string{"POST /orgs/" + org + "/personal-access-tokens/25381 {\"action\":\"revoke\"}", "irreversible"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := a.Plan(context.Background(), tt.act)
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 1 {
				t.Fatalf("%d steps", len(steps))
			}
			for _, w := range tt.wantCall {
				if !strings.Contains(steps[0].Call, w) {
					t.Errorf("call %q lacks %q", steps[0].Call, w)
				}
			}
			if (len(steps[0].Undo) > 0) != tt.undo {
				t.Errorf("undo %v, want undo=%t", steps[0].Undo, tt.undo)
			}
			actuatortest.NoSecret(t, actSecrets, "step", steps[0])
		})
	}
	if len(f.requests) != 0 {
		t.Errorf("Plan called GitHub: %v", f.requests)
	}
}

func TestActuatorRejects(t *testing.T) {
	_, srv := newFake(t)
	s := actuatortest.Suite{Actuator: newTestActuator(t, srv.URL), Secrets: actSecrets}
	actuatortest.Rejects(t, s, []actuatortest.Reject{
		{Name: "deactivate a deploy key", Action: connectors.Action{Type: "deactivate_identity", Target: actSrc + ":deploy_key/101"}, Unsupported: true, Err: "deactivate_identity"},
		{Name: "revoke_grant on a deploy key", Action: connectors.Action{Type: ActionRevokeGrant, Target: actSrc + ":deploy_key/101", Params: keyAction().Params}, Unsupported: true},
		{Name: "disable an app", Action: connectors.Action{Type: ActionDisableCredential, Target: actSrc + ":app/release-drafter"}, Unsupported: true},
		{Name: "SSO credential", Action: connectors.Action{Type: ActionDisableCredential, Target: actSrc + ":credential/161195"}, Unsupported: true},
		{Name: "actions secret", Action: connectors.Action{Type: "delete", Target: actSrc + ":actions_secret/DEPLOY_TOKEN"}, Unsupported: true},
		{Name: "other org", Action: connectors.Action{Type: ActionDisableCredential, Target: "github:other-org:pat/98716", Params: patAction().Params}, Err: "not in source"},
		{Name: "deploy key without fingerprint", Action: with(keyAction(), ParamFingerprint, ""), Err: `"fingerprint"`},
		{Name: "deploy key without repo", Action: with(keyAction(), ParamRepo, ""), Err: `"repo"`},
		{Name: "deploy key bad id", Action: connectors.Action{Type: ActionDisableCredential, Target: actSrc + ":deploy_key/abc", Params: keyAction().Params}, Err: "positive integer"},
		{Name: "bad read_only", Action: with(keyAction(), ParamReadOnly, "yes"), Err: "read_only"},
		{Name: "PAT without grant id", Action: with(patAction(), ParamGrantID, ""), Err: "grant_id"},
		{Name: "app without installation id", Action: with(appAction(), ParamInstallationID, ""), Err: "installation_id"},
		{Name: "app without repository", Action: with(appAction(), ParamRepository, ""), Err: `"repository"`},
		{Name: "app repository not a repo node", Action: with(appAction(), ParamRepository, actSrc+":pat/1"), Err: "not a repository node"},
		{Name: "app bad status", Action: with(appAction(), ParamStatus, "gone"), Err: "status"},
	})
}

// actuatorSuite is a fresh fake org and an actuator on it, as the
// conformance runner sees them.
func actuatorSuite(t *testing.T) (actuatortest.Suite, *fakeGitHub) {
	f, srv := newFake(t)
	return actuatortest.Suite{Actuator: newTestActuator(t, srv.URL), Secrets: actSecrets,
		Requests: func() []string {
			f.mu.Lock()
			defer f.mu.Unlock()
			r := f.requests
			f.requests = nil
			return r
		},
		IsWrite: func(r string) bool { return !strings.HasPrefix(r, "GET ") }}, f
}

func TestActuatorExecute(t *testing.T) {
	type check func(t testing.TB, f *fakeGitHub)
	tests := []struct {
		name    string
		act     connectors.Action
		mutate  func(f *fakeGitHub)
		changed bool
		write   string // the one write expected when not changed
		call    string
		undo    map[string]string
		after   check
		// rollback is the write of the first rollback ("" when the
		// action cannot be undone); rolledBack checks the restored org.
		rollback   string
		rolledBack func(t testing.TB, f *fakeGitHub, done connectors.Step)
		applied    func(f *fakeGitHub) bool
	}{
		{name: "delete deploy key", act: keyAction(), write: "DELETE /repos/" + org + "/deploy-infra/keys/101",
			call: "DELETE /repos/" + org + "/deploy-infra/keys/101",
			undo: map[string]string{UndoRepo: "deploy-infra", UndoTitle: "terraform-ci", UndoReadOnly: "false",
				UndoKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEIAjyO4PYdc/gV8svxLPVMUnGxlUHksaB5OpHBJHu8Y", UndoCall: "POST /repos/" + org + "/deploy-infra/keys"},
			after: func(t testing.TB, f *fakeGitHub) {
				if len(f.keys["deploy-infra"]) != 0 {
					t.Errorf("key still there: %v", f.keys["deploy-infra"])
				}
				if len(f.userPaths) != 0 {
					t.Errorf("deploy key calls used the user token: %v", f.userPaths)
				}
			},
			applied:  func(f *fakeGitHub) bool { return len(f.keys["deploy-infra"]) == 0 },
			rollback: "POST /repos/" + org + "/deploy-infra/keys",
			// the deploy key is re-created under a new id
			rolledBack: func(t testing.TB, f *fakeGitHub, done connectors.Step) {
				keys := f.keys["deploy-infra"]
				if len(keys) != 1 {
					t.Fatalf("%d keys", len(keys))
				}
				k := keys[0]
				if k.GetID() == 101 || k.GetTitle() != "terraform-ci" || k.GetReadOnly() {
					t.Errorf("re-created key id=%d title=%q read_only=%t", k.GetID(), k.GetTitle(), k.GetReadOnly())
				}
				if done.Undo[UndoRestoredID] != strconv.FormatInt(k.GetID(), 10) {
					t.Errorf("restored id %q, want %d", done.Undo[UndoRestoredID], k.GetID())
				}
				var body map[string]any
				if len(f.keyPosts) != 1 {
					t.Fatalf("%d key POSTs, want 1", len(f.keyPosts))
				}
				if err := json.Unmarshal([]byte(f.keyPosts[0]), &body); err != nil || body["title"] != "terraform-ci" || body["read_only"] != false ||
					body["key"] != "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEIAjyO4PYdc/gV8svxLPVMUnGxlUHksaB5OpHBJHu8Y" {
					t.Errorf("POST body %s", f.keyPosts[0])
				}
			}},
		{name: "deploy key already deleted", act: keyAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.keys["deploy-infra"] = nil }},
		{name: "deploy key replaced under the same id", act: keyAction(), changed: true,
			mutate: func(f *fakeGitHub) {
				f.keys["deploy-infra"][0].Key = gh.Ptr("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9zYWNrZXktZml4dHVyZS1vdGhlci1rZXktMDAwMDAwMDA=")
			}},
		{name: "deploy key title changed", act: keyAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.keys["deploy-infra"][0].Title = gh.Ptr("renamed") }},
		{name: "deploy key made read-only", act: keyAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.keys["deploy-infra"][0].ReadOnly = gh.Ptr(true) }},
		{name: "remove repository from installation", act: appAction(), write: "DELETE /user/installations/4242001/repositories/1296269",
			call: "DELETE /user/installations/4242001/repositories/1296269",
			undo: map[string]string{UndoInstallationID: "4242001", UndoRepositoryID: "1296269", UndoRepository: "Hello-World", UndoCall: "PUT /user/installations/4242001/repositories/1296269"},
			after: func(t testing.TB, f *fakeGitHub) {
				if len(f.instRepos[4242001]) != 1 {
					t.Errorf("installation has %d repositories, want 1", len(f.instRepos[4242001]))
				}
				if !f.userPaths["/user/installations/4242001/repositories/1296269"] {
					t.Error("DELETE did not use the user token")
				}
			},
			applied:  func(f *fakeGitHub) bool { return len(f.instRepos[4242001]) == 1 },
			rollback: "PUT /user/installations/4242001/repositories/1296269",
			// the repository is added back to the installation
			rolledBack: func(t testing.TB, f *fakeGitHub, done connectors.Step) {
				if len(f.instRepos[4242001]) != 2 {
					t.Errorf("installation has %d repositories, want 2", len(f.instRepos[4242001]))
				}
			}},
		{name: "repository already removed", act: appAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.instRepos[4242001] = f.instRepos[4242001][1:] }},
		{name: "installation gone", act: appAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.installs = json.RawMessage(`{"total_count":0,"installations":[]}`) }},
		{name: "installation suspended since approval", act: appAction(), changed: true,
			mutate: func(f *fakeGitHub) {
				f.installs = json.RawMessage(strings.Replace(string(f.installs), `"suspended_at": null`, `"suspended_at": "2025-01-02T03:04:05Z"`, 1))
			}},
		{name: "installation id now another app", act: with(appAction(), ParamInstallationID, "957387"), changed: true},
		{name: "installation on all repositories", act: connectors.Action{Type: ActionRevokeGrant, Target: actSrc + ":app/app-29310",
			Params: map[string]string{ParamInstallationID: "957387", ParamRepository: actSrc + ":repo/Hello-World"}}, changed: true},
		{name: "repository deleted", act: with(appAction(), ParamRepository, actSrc+":repo/deleted-repo"), changed: true},
		{name: "revoke fine-grained PAT", act: patAction(), write: "POST /orgs/" + org + "/personal-access-tokens/25381",
			call: "POST /orgs/" + org + "/personal-access-tokens/25381 {\"action\":\"revoke\"}",
			after: func(t testing.TB, f *fakeGitHub) {
				if len(f.pats) != 1 || f.pats[0].GetTokenID() == 98716 {
					t.Errorf("token still has access")
				}
			},
			applied: func(f *fakeGitHub) bool { return len(f.pats) == 1 }},
		{name: "PAT already revoked", act: patAction(), changed: true,
			mutate: func(f *fakeGitHub) { f.pats = f.pats[1:] }},
		{name: "PAT grant id differs", act: with(patAction(), ParamGrantID, "25382"), changed: true},
		{name: "PAT owner differs", act: with(patAction(), ParamOwner, "someone-else"), changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := actuatorSuite(t)
			if tt.changed {
				actuatortest.Refuses(t, s, actuatortest.Drift{Action: tt.act, Change: func(testing.TB) {
					if tt.mutate != nil {
						tt.mutate(f)
					}
				}})
				return
			}
			c := actuatortest.Case{Action: tt.act, ExecuteWrites: []string{tt.write}, Irreversible: tt.rollback == "",
				Applied: func(testing.TB) bool { return tt.applied(f) },
				Executed: func(t testing.TB, step connectors.Step, reqs []string) {
					if step.Call != tt.call {
						t.Errorf("call %q, want %q", step.Call, tt.call)
					}
					if len(step.Undo) != len(tt.undo) {
						t.Errorf("undo %v, want %v", step.Undo, tt.undo)
					}
					for k, v := range tt.undo {
						if step.Undo[k] != v {
							t.Errorf("undo[%s] = %q, want %q", k, step.Undo[k], v)
						}
					}
					if f.wrongToken {
						t.Error("a request carried no or a wrong token")
					}
					if strings.HasPrefix(tt.write, "POST ") {
						if b := f.bodies[len(f.bodies)-1]; strings.TrimSpace(b) != `{"action":"revoke"}` {
							t.Errorf("body %s", b)
						}
					}
					tt.after(t, f)
				}}
			if tt.rollback != "" {
				c.RollbackWrites = []string{tt.rollback}
				c.RolledBack = func(t testing.TB, done connectors.Step, _ []string) { tt.rolledBack(t, f, done) }
			}
			actuatortest.Lifecycle(t, s, c)
		})
	}
}

func TestActuatorRollbackRefused(t *testing.T) {
	keyDone := connectors.Step{Undo: map[string]string{UndoRepo: "deploy-infra", UndoTitle: "x", UndoReadOnly: "false",
		UndoKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9zYWNrZXktZml4dHVyZS1vdGhlci1rZXktMDAwMDAwMDA="}}
	tests := []struct {
		name string
		act  connectors.Action
		done connectors.Step
		is   error
		msg  string
	}{
		{"revoked PAT cannot be restored", patAction(), connectors.Step{Call: "POST ..."}, connectors.ErrUnsupported, "cannot be undone"},
		{"deploy key undo holds another key", keyAction(), keyDone, nil, "not the approved one"},
		{"deploy key undo for another repo", keyAction(), connectors.Step{Undo: map[string]string{UndoRepo: "Hello-World", UndoKey: "ssh-ed25519 AAAA"}}, nil, "does not belong"},
		{"installation undo for another installation", appAction(), connectors.Step{Undo: map[string]string{UndoInstallationID: "1", UndoRepositoryID: "1296269", UndoRepository: "Hello-World"}}, nil, "does not belong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			a := newTestActuator(t, srv.URL)
			err := a.Rollback(context.Background(), tt.act, tt.done)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
			if len(f.requests) != 0 {
				t.Errorf("requests %v", f.requests)
			}
		})
	}
}

func TestActuatorConfig(t *testing.T) {
	_, srv := newFake(t)
	tests := []struct {
		name string
		cfg  ActuatorConfig
		msg  string // from NewActuator, or from Execute when empty at construction
	}{
		{"no org", ActuatorConfig{TokenFile: "/t"}, "org is required"},
		{"no token file", ActuatorConfig{Org: org}, "token-file is required"},
		{"relative url", ActuatorConfig{Org: org, TokenFile: "/t", BaseURL: "api/v3"}, "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewActuator(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
		})
	}
	fileTests := []struct {
		name    string
		content string
		msg     string
	}{
		{"missing token file", "", "read token file"},
		{"empty token file", " \n", "/secrets/empty is empty"},
	}
	for _, tt := range fileTests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewActuator(ActuatorConfig{Org: org, BaseURL: srv.URL, TokenFile: "/secrets/empty",
				ReadFile: func(p string) ([]byte, error) {
					if tt.content == "" {
						return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
					}
					return []byte(tt.content), nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Execute(context.Background(), keyAction()); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
		})
	}
	t.Run("API error does not echo the token", func(t *testing.T) {
		a, err := NewActuator(ActuatorConfig{Org: org, BaseURL: srv.URL, TokenFile: "/t",
			ReadFile: func(string) ([]byte, error) { return []byte("ghp_FAKEWRONGFAKEWRONG"), nil }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Execute(context.Background(), keyAction())
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v, want a 401", err)
		}
		actuatortest.NoSecret(t, actSecrets, "error", err)
	})
}
