package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
)

const (
	rbacGroup   = "rbac.authorization.k8s.io"
	pDeployers  = "/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings/deployers"
	pAPIReader  = "/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings/api-reader"
	pRBs        = "/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings"
	pOpsBot     = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ops-bot-admin"
	pCRBs       = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	kubeToken   = "fake-test-kubeconfig-token"
	uidDeploy   = "6f1c1a4e-2b7d-4c55-9a39-0d7e4b1f6a21"
	uidAPI      = "b3e0d7c2-91f4-4a8e-8f0d-5c2a6e9b7d14"
	uidOpsBot   = "0c9f3b52-7e1a-4d6b-a2c8-4f5e6d7a8b90"
	saRunner    = "k8s:prod:sa/ci/runner"
	saAPI       = "k8s:prod:sa/payments/api"
	roleOpsBot  = "k8s:prod:clusterrole/cluster-admin"
	roleDeploy  = "k8s:prod:ns/payments/clusterrole/edit"
	bDeployers  = "RoleBinding/payments/deployers"
	bAPIReader  = "RoleBinding/payments/api-reader"
	bOpsBot     = "ClusterRoleBinding/ops-bot-admin"
	rvDeployers = "48213"
)

// fakeAPI is an API server for RoleBindings and ClusterRoleBindings that
// keeps the objects of testdata/actuator/bindings.json and answers GET,
// PUT, POST and DELETE as kube-apiserver does: resourceVersion and uid
// bumped and set by the server, 409 Conflict on a stale resourceVersion or
// a failed delete precondition, 409 AlreadyExists on create, Status
// bodies on errors.
type fakeAPI struct {
	mu    sync.Mutex
	objs  map[string]map[string]any // by REST path
	calls []string
	rv    int
	// afterGet runs after a GET is answered, under the lock: a
	// concurrent writer changing the object between read and write.
	afterGet func(f *fakeAPI, path string)
}

func newFakeAPI(t *testing.T) (*fakeAPI, *httptest.Server) {
	t.Helper()
	data, err := os.ReadFile("testdata/actuator/bindings.json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	f := &fakeAPI{objs: map[string]map[string]any{}, rv: 60000}
	for _, o := range list.Items {
		md := o["metadata"].(map[string]any)
		p := pCRBs + "/" + md["name"].(string)
		if ns, ok := md["namespace"].(string); ok {
			p = "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/rolebindings/" + md["name"].(string)
		}
		f.objs[p] = o
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+kubeToken {
		status(w, 401, "Unauthorized", "Unauthorized")
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 && r.Header.Get("Content-Type") != "application/json" {
		status(w, 415, "UnsupportedMediaType", "the fake server reads JSON bodies only")
		return
	}
	p := r.URL.Path
	resource := "rolebindings.rbac.authorization.k8s.io"
	if strings.HasPrefix(p, pCRBs) {
		resource = "clusterrolebindings.rbac.authorization.k8s.io"
	}
	name := p[strings.LastIndex(p, "/")+1:]
	cur, exists := f.objs[p]
	notFound := func() { status(w, 404, "NotFound", fmt.Sprintf("%s %q not found", resource, name)) }
	reply := func(code int, o map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(o)
	}
	switch r.Method {
	case http.MethodGet:
		if !exists {
			notFound()
			return
		}
		reply(200, cur)
		if f.afterGet != nil {
			f.afterGet(f, p)
		}
	case http.MethodDelete:
		if !exists {
			notFound()
			return
		}
		var opts struct {
			Kind          string `json:"kind"`
			Preconditions struct {
				UID             *string `json:"uid"`
				ResourceVersion *string `json:"resourceVersion"`
			} `json:"preconditions"`
		}
		if err := json.Unmarshal(body, &opts); err != nil || opts.Kind != "DeleteOptions" {
			status(w, 400, "BadRequest", "want a DeleteOptions body")
			return
		}
		md := cur["metadata"].(map[string]any)
		if pc := opts.Preconditions.UID; pc != nil && *pc != md["uid"] {
			status(w, 409, "Conflict", fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *pc, md["uid"]))
			return
		}
		if pc := opts.Preconditions.ResourceVersion; pc != nil && *pc != md["resourceVersion"] {
			status(w, 409, "Conflict", fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *pc, md["resourceVersion"]))
			return
		}
		delete(f.objs, p)
		reply(200, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Success",
			"details": map[string]any{"name": name, "group": rbacGroup, "kind": strings.Split(resource, ".")[0], "uid": md["uid"]}})
	case http.MethodPut:
		if !exists {
			notFound()
			return
		}
		var o map[string]any
		if err := json.Unmarshal(body, &o); err != nil {
			status(w, 400, "BadRequest", err.Error())
			return
		}
		md, _ := o["metadata"].(map[string]any)
		old := cur["metadata"].(map[string]any)
		if md == nil || md["resourceVersion"] != old["resourceVersion"] {
			status(w, 409, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again", resource, name))
			return
		}
		if md["uid"] != old["uid"] || !reflect.DeepEqual(o["roleRef"], cur["roleRef"]) {
			status(w, 422, "Invalid", "roleRef: Invalid value: cannot change roleRef")
			return
		}
		f.rv++
		md["resourceVersion"] = strconv.Itoa(f.rv)
		f.objs[p] = o
		reply(200, o)
	case http.MethodPost:
		var o map[string]any
		if err := json.Unmarshal(body, &o); err != nil {
			status(w, 400, "BadRequest", err.Error())
			return
		}
		md := o["metadata"].(map[string]any)
		if _, ok := md["resourceVersion"]; ok {
			status(w, 500, "InternalError", "resourceVersion should not be set on objects to be created")
			return
		}
		key := p + "/" + md["name"].(string)
		if _, ok := f.objs[key]; ok {
			status(w, 409, "AlreadyExists", fmt.Sprintf("%s %q already exists", resource, md["name"]))
			return
		}
		f.rv++
		md["resourceVersion"] = strconv.Itoa(f.rv)
		md["uid"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", f.rv)
		md["creationTimestamp"] = "2026-11-24T02:00:00Z"
		f.objs[key] = o
		reply(201, o)
	default:
		status(w, 405, "MethodNotAllowed", "method not allowed")
	}
}

// takeCalls returns and clears the recorded requests.
func (f *fakeAPI) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// binding decodes the stored object at p (nil if absent).
func (f *fakeAPI) binding(t testing.TB, p string) *rbacv1.RoleBinding {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objs[p]
	if !ok {
		return nil
	}
	b, _ := json.Marshal(o)
	var rb rbacv1.RoleBinding // a ClusterRoleBinding has the same fields
	if err := json.Unmarshal(b, &rb); err != nil {
		t.Fatal(err)
	}
	return &rb
}

// bump simulates another writer: a new resourceVersion on p.
func (f *fakeAPI) bump(p string) {
	f.rv++
	f.objs[p]["metadata"].(map[string]any)["resourceVersion"] = strconv.Itoa(f.rv)
}

func newTestActuator(t *testing.T, srv *httptest.Server) *Actuator {
	t.Helper()
	a, err := NewActuator(ActuatorConfig{Kubeconfig: writeKubeconfig(t, srv), Context: "prod-admin"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// digestOf is the BindingDigest of the fixture object at p.
func digestOf(t *testing.T, f *fakeAPI, p string) string {
	rb := f.binding(t, p)
	return BindingDigest(rb.Namespace, rb.RoleRef, rb.Subjects)
}

func noSecret(t *testing.T, what string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if s := fmt.Sprint(v) + string(b); strings.Contains(s, kubeToken) {
		t.Errorf("%s carries the kubeconfig token", what)
	}
}

func TestActuatorPlan(t *testing.T) {
	f, srv := newFakeAPI(t)
	a := newTestActuator(t, srv)
	tests := []struct {
		name string
		act  connectors.Action
		want []connectors.Step
	}{
		{"revoke rolebinding",
			connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI}},
			[]connectors.Step{{Call: "GET " + pAPIReader}, {Call: "DELETE " + pAPIReader, Undo: map[string]string{UndoCall: "POST " + pRBs}}}},
		{"revoke clusterrolebinding",
			connectors.Action{Type: ActionRevokeGrant, Target: roleOpsBot, Params: map[string]string{ParamBinding: bOpsBot, ParamResourceVersion: "1187"}},
			[]connectors.Step{{Call: "GET " + pOpsBot}, {Call: "DELETE " + pOpsBot, Undo: map[string]string{UndoCall: "POST " + pCRBs}}}},
		{"remove membership",
			connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}},
			[]connectors.Step{{Call: "GET " + pDeployers}, {Call: "PUT " + pDeployers, Undo: map[string]string{UndoCall: "PUT " + pDeployers}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Plan(t.Context(), tt.act)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Plan = %+v\nwant %+v", got, tt.want)
			}
			if c := f.takeCalls(); len(c) > 0 {
				t.Errorf("Plan made requests %v", c)
			}
		})
	}
}

func TestActuatorExecuteRollback(t *testing.T) {
	type want struct {
		err     error  // sentinel the error wraps; nil: success
		errText string // substring of the error
		calls   []string
	}
	tests := []struct {
		name string
		act  connectors.Action
		// before changes the server state after approval.
		before func(f *fakeAPI)
		// concurrent changes the binding right after the actuator's GET.
		concurrent bool
		exec       want
		// after checks the server after a successful Execute.
		after func(t testing.TB, f *fakeAPI)
		// rollback is the requests of the first Rollback.
		rollback []string
	}{
		{
			name: "revoke rolebinding of its only subject",
			act:  connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI, "status": "active", "uid": "0d6c7d1e-sa-uid-from-graph"}},
			exec: want{calls: []string{"GET " + pAPIReader, "DELETE " + pAPIReader}},
			after: func(t testing.TB, f *fakeAPI) {
				if f.binding(t, pAPIReader) != nil {
					t.Error("binding still there")
				}
			},
			rollback: []string{"GET " + pAPIReader, "POST " + pRBs},
		},
		{
			name:     "revoke clusterrolebinding by role and resourceVersion",
			act:      connectors.Action{Type: ActionRevokeGrant, Target: roleOpsBot, Params: map[string]string{ParamBinding: bOpsBot, ParamResourceVersion: "1187", ParamUID: uidOpsBot}},
			exec:     want{calls: []string{"GET " + pOpsBot, "DELETE " + pOpsBot}},
			rollback: []string{"GET " + pOpsBot, "POST " + pCRBs},
		},
		{
			name:     "revoke rolebinding by role and digest",
			act:      connectors.Action{Type: ActionRevokeGrant, Target: roleDeploy, Params: map[string]string{ParamBinding: bDeployers, ParamDigest: "from-fixture"}},
			exec:     want{calls: []string{"GET " + pDeployers, "DELETE " + pDeployers}},
			rollback: []string{"GET " + pDeployers, "POST " + pRBs},
		},
		{
			name: "revoke refuses a binding shared with other subjects",
			act:  connectors.Action{Type: ActionRevokeGrant, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers, ParamUID: uidDeploy}},
			exec: want{errText: "also binds ServiceAccount/deployer", calls: []string{"GET " + pDeployers}},
		},
		{
			name: "revoke: uid differs (binding recreated)",
			act:  connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: "11111111-2222-4333-8444-555555555555"}},
			exec: want{err: connectors.ErrTargetChanged, errText: "uid is " + uidAPI, calls: []string{"GET " + pAPIReader}},
		},
		{
			name:   "revoke: resourceVersion moved on",
			act:    connectors.Action{Type: ActionRevokeGrant, Target: roleOpsBot, Params: map[string]string{ParamBinding: bOpsBot, ParamResourceVersion: "1187"}},
			before: func(f *fakeAPI) { f.bump(pOpsBot) },
			exec:   want{err: connectors.ErrTargetChanged, errText: "approved 1187", calls: []string{"GET " + pOpsBot}},
		},
		{
			name: "revoke: subjects differ from the approved digest",
			act:  connectors.Action{Type: ActionRevokeGrant, Target: roleDeploy, Params: map[string]string{ParamBinding: bDeployers, ParamDigest: "from-fixture"}},
			before: func(f *fakeAPI) {
				o := f.objs[pDeployers]
				o["subjects"] = append(o["subjects"].([]any), map[string]any{"kind": "User", "apiGroup": rbacGroup, "name": "mallory"})
			},
			exec: want{err: connectors.ErrTargetChanged, errText: "digest", calls: []string{"GET " + pDeployers}},
		},
		{
			name: "revoke: binding now binds another role",
			act:  connectors.Action{Type: ActionRevokeGrant, Target: "k8s:prod:clusterrole/view", Params: map[string]string{ParamBinding: bOpsBot, ParamUID: uidOpsBot}},
			exec: want{err: connectors.ErrTargetChanged, errText: "binds k8s:prod:clusterrole/cluster-admin", calls: []string{"GET " + pOpsBot}},
		},
		{
			name:   "revoke: binding gone",
			act:    connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI}},
			before: func(f *fakeAPI) { delete(f.objs, pAPIReader) },
			exec:   want{err: connectors.ErrTargetChanged, errText: "no longer exists", calls: []string{"GET " + pAPIReader}},
		},
		{
			name:       "revoke: changed between read and delete",
			act:        connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI}},
			concurrent: true,
			exec:       want{err: connectors.ErrTargetChanged, errText: "Precondition failed", calls: []string{"GET " + pAPIReader, "DELETE " + pAPIReader}},
		},
		{
			name: "remove service account from shared binding",
			act:  connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers, ParamResourceVersion: rvDeployers}},
			exec: want{calls: []string{"GET " + pDeployers, "PUT " + pDeployers}},
			after: func(t testing.TB, f *fakeAPI) {
				rb := f.binding(t, pDeployers)
				want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer"}, {Kind: "Group", APIGroup: rbacGroup, Name: "system:serviceaccounts:ci"}}
				if !reflect.DeepEqual(rb.Subjects, want) {
					t.Errorf("subjects = %+v, want %+v", rb.Subjects, want)
				}
			},
			rollback: []string{"GET " + pDeployers, "PUT " + pDeployers},
		},
		{
			name: "remove namespace-less subject named by param on role target",
			act:  connectors.Action{Type: ActionRemoveMembership, Target: roleDeploy, Params: map[string]string{ParamBinding: bDeployers, ParamSubject: "ServiceAccount/payments/deployer"}},
			exec: want{calls: []string{"GET " + pDeployers, "PUT " + pDeployers}},
			after: func(t testing.TB, f *fakeAPI) {
				for _, s := range f.binding(t, pDeployers).Subjects {
					if s.Name == "deployer" {
						t.Errorf("deployer still bound: %+v", s)
					}
				}
			},
			rollback: []string{"GET " + pDeployers, "PUT " + pDeployers},
		},
		{
			name: "remove: subject no longer bound",
			act:  connectors.Action{Type: ActionRemoveMembership, Target: "k8s:prod:sa/ci/ghost", Params: map[string]string{ParamBinding: bDeployers}},
			exec: want{err: connectors.ErrTargetChanged, errText: "ServiceAccount/ci/ghost is no longer a subject", calls: []string{"GET " + pDeployers}},
		},
		{
			name:   "remove: resourceVersion moved on",
			act:    connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers, ParamResourceVersion: rvDeployers}},
			before: func(f *fakeAPI) { f.bump(pDeployers) },
			exec:   want{err: connectors.ErrTargetChanged, errText: "resourceVersion is", calls: []string{"GET " + pDeployers}},
		},
		{
			name:       "remove: changed between read and update (409)",
			act:        connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}},
			concurrent: true,
			exec:       want{err: connectors.ErrTargetChanged, errText: "the object has been modified", calls: []string{"GET " + pDeployers, "PUT " + pDeployers}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := actuatorSuite(t)
			p := bindingPath(t, tt.act)
			orig := f.binding(t, p)
			if tt.act.Params[ParamDigest] == "from-fixture" {
				tt.act.Params[ParamDigest] = digestOf(t, f, p)
			}
			if tt.before != nil {
				f.mu.Lock()
				tt.before(f)
				f.mu.Unlock()
			}
			changed := f.binding(t, p)
			if tt.concurrent {
				f.afterGet = func(f *fakeAPI, path string) {
					f.bump(path)
					f.afterGet = nil
				}
			}
			if tt.exec.err != nil || tt.exec.errText != "" {
				step, err := s.Actuator.Execute(t.Context(), tt.act)
				noSecret(t, "Execute", []any{step, err})
				if got := f.takeCalls(); !reflect.DeepEqual(got, tt.exec.calls) {
					t.Errorf("requests = %q, want %q", got, tt.exec.calls)
				}
				if err == nil || !strings.Contains(err.Error(), tt.exec.errText) || (tt.exec.err != nil && !errors.Is(err, tt.exec.err)) {
					t.Fatalf("Execute err = %v, want %v containing %q", err, tt.exec.err, tt.exec.errText)
				}
				if tt.exec.err == nil && errors.Is(err, connectors.ErrTargetChanged) {
					t.Errorf("err %v is ErrTargetChanged", err)
				}
				if now := f.binding(t, p); (now == nil) != (changed == nil) || now != nil && !reflect.DeepEqual(now.Subjects, changed.Subjects) {
					t.Errorf("a refused action changed the binding: %+v", now)
				}
				return
			}
			rollbacks := 0
			actuatortest.Lifecycle(t, s, actuatortest.Case{Action: tt.act,
				Executed: func(t testing.TB, step connectors.Step, reqs []string) {
					if !reflect.DeepEqual(reqs, tt.exec.calls) {
						t.Errorf("requests = %q, want %q", reqs, tt.exec.calls)
					}
					if want := tt.exec.calls[len(tt.exec.calls)-1]; step.Call != want {
						t.Errorf("step call %q, want %q", step.Call, want)
					}
					if obj := step.Undo[UndoObject]; strings.Contains(obj, "managedFields") || strings.Contains(obj, "resourceVersion") || strings.Contains(obj, `"uid"`) {
						t.Errorf("undo object keeps server-set fields: %s", obj)
					}
					if tt.after != nil {
						tt.after(t, f)
					}
				},
				// The first rollback re-reads and restores, the second
				// only re-reads.
				RolledBack: func(t testing.TB, _ connectors.Step, reqs []string) {
					rollbacks++
					if want := tt.rollback[:len(tt.rollback)/rollbacks]; !reflect.DeepEqual(reqs, want) {
						t.Errorf("rollback %d requests = %q, want %q", rollbacks, reqs, want)
					}
					back := f.binding(t, p)
					if back == nil {
						t.Fatal("binding not restored")
					}
					if BindingDigest(back.Namespace, back.RoleRef, back.Subjects) != BindingDigest(orig.Namespace, orig.RoleRef, orig.Subjects) ||
						!reflect.DeepEqual(back.Labels, orig.Labels) || !reflect.DeepEqual(back.Annotations, orig.Annotations) {
						t.Errorf("restored binding %+v\ndiffers from the original %+v", back, orig)
					}
				}})
		})
	}
}

// actuatorSuite is a fresh fake API server and an actuator on it, as the
// conformance runner sees them.
func actuatorSuite(t *testing.T) (actuatortest.Suite, *fakeAPI) {
	f, srv := newFakeAPI(t)
	return actuatortest.Suite{Actuator: newTestActuator(t, srv), Secrets: []string{kubeToken},
		Requests: f.takeCalls, IsWrite: func(r string) bool { return !strings.HasPrefix(r, "GET ") }}, f
}

// bindingPath is the REST path of the action's binding.
func bindingPath(t *testing.T, act connectors.Action) string {
	t.Helper()
	b, err := parseBinding(act.Params[ParamBinding])
	if err != nil {
		t.Fatal(err)
	}
	return b.path()
}

func TestActuatorRefuses(t *testing.T) {
	s, _ := actuatorSuite(t)
	tests := []struct {
		name string
		act  connectors.Action
		err  error
		text string
	}{
		{"deactivate identity", connectors.Action{Type: ActionDeactivate, Target: saRunner}, connectors.ErrUnsupported, "cannot disable a service account"},
		{"rotate credential", connectors.Action{Type: "rotate_credential", Target: "k8s:prod:secret/ci/runner-token"}, connectors.ErrUnsupported, `"rotate_credential"`},
		{"delete", connectors.Action{Type: "delete", Target: saRunner}, connectors.ErrUnsupported, `"delete"`},
		{"no binding", connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamUID: uidAPI}}, nil, `param "binding"`},
		{"bad binding", connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: "Role/payments/reader", ParamUID: uidAPI}}, nil, "want RoleBinding/<namespace>/<name>"},
		{"binding name escapes the path", connectors.Action{Type: ActionRemoveMembership, Target: saAPI, Params: map[string]string{ParamBinding: "ClusterRoleBinding/.."}}, nil, `name ".."`},
		{"bad namespace", connectors.Action{Type: ActionRemoveMembership, Target: saAPI, Params: map[string]string{ParamBinding: "RoleBinding/Pay_ments/x"}}, nil, `namespace "Pay_ments"`},
		{"other cluster", connectors.Action{Type: ActionRevokeGrant, Target: "k8s:staging:sa/ci/runner", Params: map[string]string{ParamBinding: bDeployers, ParamUID: uidDeploy}}, nil, "not in source k8s:prod"},
		{"not a subject or role", connectors.Action{Type: ActionRemoveMembership, Target: "k8s:prod:secret/ci/runner-token", Params: map[string]string{ParamBinding: bDeployers}}, nil, "not a service account"},
		{"namespace is not a role", connectors.Action{Type: ActionRevokeGrant, Target: "k8s:prod:ns/payments", Params: map[string]string{ParamBinding: bDeployers, ParamUID: uidDeploy}}, nil, "not a service account, user, group or role"},
		{"revoke without approved state", connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader}}, nil, `"binding_uid", "binding_resource_version" or "binding_digest"`},
		{"subject contradicts target", connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers, ParamSubject: "ServiceAccount/payments/deployer"}}, nil, "but the target is ServiceAccount/ci/runner"},
		{"role target without subject", connectors.Action{Type: ActionRemoveMembership, Target: roleDeploy, Params: map[string]string{ParamBinding: bDeployers}}, nil, `param "subject" is required`},
		{"bad subject", connectors.Action{Type: ActionRemoveMembership, Target: roleDeploy, Params: map[string]string{ParamBinding: bDeployers, ParamSubject: "ServiceAccount/runner"}}, nil, "want ServiceAccount/<namespace>/<name>"},
	}
	var cases []actuatortest.Reject
	for _, tt := range tests {
		cases = append(cases, actuatortest.Reject{Name: tt.name, Action: tt.act, Unsupported: tt.err != nil, Err: tt.text})
	}
	actuatortest.Rejects(t, s, cases)
}

func TestActuatorRollbackChecksUndo(t *testing.T) {
	f, srv := newFakeAPI(t)
	a := newTestActuator(t, srv)
	revokeAPI := connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI}}
	otherObj := `{"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"api-reader","namespace":"payments"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"mallory"}]}`
	tests := []struct {
		name string
		act  connectors.Action
		undo map[string]string
		text string
	}{
		{"undo object of another binding", revokeAPI, map[string]string{UndoObject: otherObj}, "does not belong to RoleBinding/payments/api-reader"},
		{"undo object not json", revokeAPI, map[string]string{UndoObject: "{"}, `step undo "object"`},
		{"undo subjects of another subject",
			connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}},
			map[string]string{UndoSubjects: `[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"mallory"}]`}, "is not ServiceAccount/ci/runner"},
		{"no undo subjects",
			connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}},
			nil, "is not the removed subjects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Rollback(t.Context(), tt.act, connectors.Step{Undo: tt.undo})
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Rollback err = %v, want %q", err, tt.text)
			}
			for _, c := range f.takeCalls() {
				if !strings.HasPrefix(c, "GET ") {
					t.Errorf("rollback with bad undo data wrote: %s", c)
				}
			}
		})
	}

	t.Run("binding deleted before subject re-added", func(t *testing.T) {
		act := connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}}
		step, err := a.Execute(t.Context(), act)
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		delete(f.objs, pDeployers)
		f.mu.Unlock()
		f.takeCalls()
		if err := a.Rollback(t.Context(), act, step); !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("Rollback err = %v, want ErrTargetChanged", err)
		}
		if got := f.takeCalls(); !slices.Equal(got, []string{"GET " + pDeployers}) {
			t.Errorf("requests = %q", got)
		}
	})

	t.Run("recreated differently meanwhile", func(t *testing.T) {
		step, err := a.Execute(t.Context(), revokeAPI)
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.objs[pAPIReader] = map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
			"metadata": map[string]any{"name": "api-reader", "namespace": "payments", "resourceVersion": "70000", "uid": "new"},
			"roleRef":  map[string]any{"apiGroup": rbacGroup, "kind": "ClusterRole", "name": "view"}, "subjects": []any{}}
		f.mu.Unlock()
		f.takeCalls()
		err = a.Rollback(t.Context(), revokeAPI, step)
		if !errors.Is(err, connectors.ErrTargetChanged) {
			t.Fatalf("Rollback err = %v, want ErrTargetChanged", err)
		}
		if got := f.takeCalls(); !slices.Equal(got, []string{"GET " + pAPIReader}) {
			t.Errorf("requests = %q", got)
		}
	})
}

func TestNewActuator(t *testing.T) {
	_, srv := newFakeAPI(t)
	kc := writeKubeconfig(t, srv)
	tests := []struct {
		name   string
		cfg    ActuatorConfig
		source string
		err    string
	}{
		{"context names the cluster", ActuatorConfig{Kubeconfig: kc, Context: "prod-admin"}, "k8s:prod", ""},
		{"cluster given", ActuatorConfig{Kubeconfig: kc, Context: "prod-admin", Cluster: "eu-1"}, "k8s:eu-1", ""},
		{"no credentials", ActuatorConfig{}, "", "exactly one of kubeconfig or in-cluster"},
		{"both credentials", ActuatorConfig{Kubeconfig: kc, InCluster: true}, "", "exactly one of kubeconfig or in-cluster"},
		{"context without kubeconfig", ActuatorConfig{InCluster: true, Context: "x"}, "", "context needs kubeconfig"},
		{"missing kubeconfig", ActuatorConfig{Kubeconfig: kc + ".missing"}, "", "kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewActuator(tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				noSecret(t, "error", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.source != tt.source {
				t.Errorf("source %q, want %q", a.source, tt.source)
			}
		})
	}
}

func TestBindingDigest(t *testing.T) {
	ref := rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "edit"}
	a := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer"}, {Kind: "Group", APIGroup: rbacGroup, Name: "g"}}
	base := BindingDigest("payments", ref, a)
	tests := []struct {
		name     string
		ns       string
		ref      rbacv1.RoleRef
		subjects []rbacv1.Subject
		same     bool
	}{
		{"order does not matter", "payments", ref, []rbacv1.Subject{a[1], a[0]}, true},
		{"default namespace spelled out", "payments", ref, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: "payments"}, a[1]}, true},
		{"other namespace", "ci", ref, a, false},
		{"other role", "payments", rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "admin"}, a, false},
		{"subject added", "payments", ref, append(slices.Clone(a), rbacv1.Subject{Kind: "User", APIGroup: rbacGroup, Name: "x"}), false},
		{"subject removed", "payments", ref, a[:1], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BindingDigest(tt.ns, tt.ref, tt.subjects) == base; got != tt.same {
				t.Errorf("same digest = %v, want %v", got, tt.same)
			}
		})
	}
}

// The approval service finds Check by this interface.
var _ approval.Checker = (*Actuator)(nil)

func TestActuatorCheck(t *testing.T) {
	revoke := connectors.Action{Type: ActionRevokeGrant, Target: saAPI, Params: map[string]string{ParamBinding: bAPIReader, ParamUID: uidAPI}}
	remove := connectors.Action{Type: ActionRemoveMembership, Target: saRunner, Params: map[string]string{ParamBinding: bDeployers}}
	tests := []struct {
		name    string
		act     connectors.Action
		execute bool           // run Execute first (its outcome is then "lost")
		change  func(*fakeAPI) // server state before Check
		applied bool
		step    connectors.Step // when applied
		err     error
	}{
		{name: "revoke not run", act: revoke},
		{name: "revoke ran", act: revoke, execute: true, applied: true, step: connectors.Step{Call: "DELETE " + pAPIReader}},
		{name: "revoke: binding replaced", act: revoke, applied: true, step: connectors.Step{Call: "DELETE " + pAPIReader},
			change: func(f *fakeAPI) { f.objs[pAPIReader]["metadata"].(map[string]any)["uid"] = "new" }},
		{name: "remove not run", act: remove},
		{name: "remove ran", act: remove, execute: true, applied: true, step: connectors.Step{Call: "PUT " + pDeployers,
			Undo: map[string]string{UndoCall: "PUT " + pDeployers, UndoSubjects: `[{"kind":"ServiceAccount","name":"runner","namespace":"ci"}]`}}},
		{name: "remove: binding gone", act: remove, err: connectors.ErrTargetChanged,
			change: func(f *fakeAPI) { delete(f.objs, pDeployers) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeAPI(t)
			a := newTestActuator(t, srv)
			orig := f.binding(t, bindingPath(t, tt.act))
			if tt.execute {
				if _, err := a.Execute(t.Context(), tt.act); err != nil {
					t.Fatal(err)
				}
			}
			if tt.change != nil {
				f.mu.Lock()
				tt.change(f)
				f.mu.Unlock()
			}
			f.takeCalls()
			applied, step, err := a.Check(t.Context(), tt.act)
			if got := f.takeCalls(); !slices.Equal(got, []string{"GET " + bindingPath(t, tt.act)}) {
				t.Errorf("Check requests = %q, want one GET", got)
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Check err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || applied != tt.applied || !reflect.DeepEqual(step, tt.step) {
				t.Fatalf("Check = %v, %+v, %v; want %v, %+v", applied, step, err, tt.applied, tt.step)
			}
			if !applied || !tt.execute {
				return
			}
			// The step Check returns is what Rollback then gets.
			err = a.Rollback(t.Context(), tt.act, step)
			if tt.act.Type == ActionRevokeGrant {
				if err == nil || !strings.Contains(err.Error(), "no undo object") {
					t.Errorf("Rollback without the deleted object: err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			back := f.binding(t, pDeployers)
			if BindingDigest(back.Namespace, back.RoleRef, back.Subjects) != BindingDigest(orig.Namespace, orig.RoleRef, orig.Subjects) {
				t.Errorf("subjects after rollback %+v, want %+v", back.Subjects, orig.Subjects)
			}
		})
	}
}
