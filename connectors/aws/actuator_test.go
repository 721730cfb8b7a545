package aws

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/actuatortest"
	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/internal/secret"
)

// Fake key ids for the actuator tests, besides deployKey1/2 and etlKey.
const (
	etlKey2 = "AKIAJEXAMPLEETLKEY02"
	ciKey   = "AKIAEXAMPLECIBOTKEY1"
)

var actTemplates = template.Must(template.New("").Funcs(template.FuncMap{"x": func(s string) (string, error) {
	var b bytes.Buffer
	err := xml.EscapeText(&b, []byte(s))
	return b.String(), err
}}).ParseGlob(filepath.Join("testdata", "actuator", "*.xml")))

type fakeKey struct{ ID, Status, Created string }

// iamState is what the fake IAM holds. A user exists while it has an
// entry in Keys; a role or group while it has one in Attached.
type iamState struct {
	Keys     map[string][]fakeKey // user name -> keys
	Attached map[string][]string  // "user/<name>", "role/<name>", "group/<name>" -> policy ARNs
	Groups   map[string][]string  // user name -> group names
}

func initialState() iamState {
	return iamState{
		Keys: map[string][]fakeKey{
			"deploy-bot": {{deployKey1, "Active", "2024-02-01T10:00:00Z"}, {deployKey2, "Inactive", "2021-03-03T03:03:03Z"}},
			"etl":        {{etlKey, "Active", "2025-06-01T00:00:00Z"}, {etlKey2, "Active", "2025-07-01T00:00:00Z"}},
			"ci-bot":     {{ciKey, "Active", "2025-01-01T00:00:00Z"}},
			"idle":       {{"AKIAEXAMPLEIDLEKEY01", "Inactive", "2020-01-01T00:00:00Z"}},
		},
		Attached: map[string][]string{
			"user/etl":          {"arn:aws:iam::111122223333:policy/etl-write", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
			"user/deploy-bot":   {"arn:aws:iam::aws:policy/AdministratorAccess"},
			"user/ci-bot":       nil,
			"user/idle":         nil,
			"role/web-server":   {"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::111122223333:policy/web-logs"},
			"group/deployers":   {"arn:aws:iam::111122223333:policy/deploy"},
			"group/readers":     {"arn:aws:iam::aws:policy/ReadOnlyAccess"},
			"group/ops-oncall":  nil,
			"role/partner-read": nil,
		},
		Groups: map[string][]string{"etl": {"readers", "deployers"}, "ci-bot": {"ops-oncall"}},
	}
}

// clone copies s with every list sorted, so states compare by content.
func (s iamState) clone() iamState {
	c := iamState{Keys: map[string][]fakeKey{}, Attached: map[string][]string{}, Groups: map[string][]string{}}
	for k, v := range s.Keys {
		c.Keys[k] = slices.Clone(v)
		slices.SortFunc(c.Keys[k], func(a, b fakeKey) int { return strings.Compare(a.ID, b.ID) })
	}
	for k, v := range s.Attached {
		c.Attached[k] = slices.Sorted(slices.Values(v))
	}
	for k, v := range s.Groups {
		c.Groups[k] = slices.Sorted(slices.Values(v))
	}
	return c
}

// fakeIAM speaks the IAM Query API for the actuator's calls, from a
// mutable state, one item per page so that paging is always exercised.
type fakeIAM struct {
	mu     sync.Mutex
	st     iamState
	calls  []string
	reqs   int
	failAt int // the request number answered with AccessDenied (1-based; 0 = never)
	// race, when set, changes the state as a request for action arrives:
	// another administrator acting between the re-read and the write.
	race func(action string, st *iamState)
}

func newFakeIAM() *fakeIAM { return &fakeIAM{st: initialState()} }

func (f *fakeIAM) state() iamState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.clone()
}

// mutations are the recorded calls that change state.
func (f *fakeIAM) mutations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeIAM) allCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeIAM) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

func (f *fakeIAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/") || !strings.Contains(auth, "/iam/aws4_request") {
		f.render(w, http.StatusForbidden, "Error", map[string]string{"Code": "IncompleteSignature", "Message": "not signed with the test credentials"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Version") != "2010-05-08" {
		f.render(w, http.StatusBadRequest, "Error", map[string]string{"Code": "MalformedQueryString", "Message": "bad form or version"})
		return
	}
	form := r.PostForm
	action := form.Get("Action")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs++
	// The record masks key ids, as anything Steward shows must.
	rec := action
	for _, p := range []string{"UserName", "RoleName", "GroupName", "PolicyArn", "AccessKeyId", "Status"} {
		if v := form.Get(p); v != "" {
			if p == "AccessKeyId" {
				v = secret.Mask(v)
			}
			rec += " " + p + "=" + v
		}
	}
	f.calls = append(f.calls, rec)
	if f.reqs == f.failAt {
		f.render(w, http.StatusForbidden, "Error", map[string]string{"Code": "AccessDenied", "Message": "User is not authorized to perform: iam:" + action})
		return
	}
	if f.race != nil {
		f.race(action, &f.st)
	}
	noSuch := func(what string) {
		f.render(w, http.StatusNotFound, "Error", map[string]string{"Code": "NoSuchEntity", "Message": "The " + what + " cannot be found."})
	}
	user, role, group, arn := form.Get("UserName"), form.Get("RoleName"), form.Get("GroupName"), form.Get("PolicyArn")
	page := func(n int) (start int, truncated bool, marker string) {
		if m := form.Get("Marker"); m != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(m, "AAEAAZMARKER"))
		}
		if start+1 < n {
			return start, true, "AAEAAZMARKER" + strconv.Itoa(start+1)
		}
		return start, false, ""
	}
	type item struct{ ID, Status, Created, Name, ARN, Path string }
	list := func(tmpl string, items []item) {
		start, trunc, marker := page(len(items))
		var one []item
		if start < len(items) {
			one = items[start : start+1]
		}
		f.render(w, http.StatusOK, tmpl, map[string]any{"Action": action, "User": user, "Items": one, "Truncated": trunc, "Marker": marker})
	}
	switch action {
	case "ListAccessKeys":
		keys, ok := f.st.Keys[user]
		if !ok {
			noSuch("user with name " + user)
			return
		}
		var items []item
		for _, k := range keys {
			items = append(items, item{ID: k.ID, Status: k.Status, Created: k.Created})
		}
		list("ListAccessKeys.xml", items)
	case "UpdateAccessKey":
		i := slices.IndexFunc(f.st.Keys[user], func(k fakeKey) bool { return k.ID == form.Get("AccessKeyId") })
		if i < 0 {
			// IAM quotes the whole key id here.
			noSuch("Access Key with id " + form.Get("AccessKeyId"))
			return
		}
		f.st.Keys[user][i].Status = form.Get("Status")
		f.render(w, http.StatusOK, "Empty.xml", map[string]any{"Action": action})
	case "ListAttachedUserPolicies", "ListAttachedRolePolicies", "ListAttachedGroupPolicies":
		key := map[string]string{"ListAttachedUserPolicies": "user/" + user, "ListAttachedRolePolicies": "role/" + role, "ListAttachedGroupPolicies": "group/" + group}[action]
		arns, ok := f.st.Attached[key]
		if !ok {
			noSuch(key)
			return
		}
		var items []item
		for _, a := range arns {
			items = append(items, item{Name: a[strings.LastIndexByte(a, '/')+1:], ARN: a})
		}
		list("ListAttachedPolicies.xml", items)
	case "DetachUserPolicy", "DetachRolePolicy", "DetachGroupPolicy", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy":
		key := strings.ToLower(strings.TrimSuffix(action[6:], "Policy")) + "/" + user + role + group
		arns, ok := f.st.Attached[key]
		if !ok {
			noSuch(key)
			return
		}
		i := slices.Index(arns, arn)
		switch {
		case strings.HasPrefix(action, "Detach") && i < 0:
			noSuch("Policy " + arn + " attached to " + key)
			return
		case strings.HasPrefix(action, "Detach"):
			f.st.Attached[key] = slices.Delete(arns, i, i+1)
		case i < 0:
			f.st.Attached[key] = append(arns, arn)
		}
		f.render(w, http.StatusOK, "Empty.xml", map[string]any{"Action": action})
	case "ListGroupsForUser":
		if _, ok := f.st.Keys[user]; !ok {
			noSuch("user with name " + user)
			return
		}
		var items []item
		for _, g := range f.st.Groups[user] {
			items = append(items, item{Path: "/", Name: g, ID: "AGPAEXAMPLE" + strings.ToUpper(g), ARN: "arn:aws:iam::" + acct + ":group/" + g})
		}
		list("ListGroupsForUser.xml", items)
	case "RemoveUserFromGroup", "AddUserToGroup":
		if _, ok := f.st.Keys[user]; !ok {
			noSuch("user with name " + user)
			return
		}
		if _, ok := f.st.Attached["group/"+group]; !ok {
			noSuch("group with name " + group)
			return
		}
		i := slices.Index(f.st.Groups[user], group)
		switch {
		case action == "RemoveUserFromGroup" && i < 0:
			noSuch("user " + user + " in group " + group)
			return
		case action == "RemoveUserFromGroup":
			f.st.Groups[user] = slices.Delete(f.st.Groups[user], i, i+1)
		case i < 0:
			f.st.Groups[user] = append(f.st.Groups[user], group)
		}
		f.render(w, http.StatusOK, "Empty.xml", map[string]any{"Action": action})
	default:
		f.render(w, http.StatusBadRequest, "Error", map[string]string{"Code": "InvalidAction", "Message": "unexpected action " + action})
	}
}

func (f *fakeIAM) render(w http.ResponseWriter, status int, tmpl string, data any) {
	if tmpl == "Error" {
		m := data.(map[string]string)
		data = map[string]string{"Code": m["Code"], "Message": m["Message"], "RequestID": "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"}
		tmpl = "Error.xml"
	} else {
		data.(map[string]any)["RequestID"] = fmt.Sprintf("4d5e6f70-0000-4000-8000-%012d", f.reqs)
	}
	var b bytes.Buffer
	if err := actTemplates.ExecuteTemplate(&b, tmpl, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func newTestActuator(t *testing.T) (*Actuator, *fakeIAM) {
	t.Helper()
	liveEnv(t) // keep the machine's AWS configuration out of the SDK
	f := newFakeIAM()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a, err := NewActuator(ActuatorConfig{Account: acct, Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return a, f
}

var (
	deployKeyNode = awsid.AccessKeyNodeID(acct, "deploy-bot", deployKey1)
	deployKey2Fp  = awsid.KeyFingerprint(deployKey2)
	active        = map[string]string{ParamStatus: "active"}
)

func withParams(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// actSecrets are the full key ids and the secret no step or error may hold.
var actSecrets = []string{deployKey1, deployKey2, etlKey, etlKey2, ciKey, testSecretKey}

// actuatorSuite is a fresh fake IAM and an actuator on it, as the
// conformance runner sees them: List calls read, the others write.
func actuatorSuite(t *testing.T) (actuatortest.Suite, *fakeIAM) {
	a, f := newTestActuator(t)
	return actuatortest.Suite{Actuator: a, Secrets: actSecrets,
		Requests: func() []string { c := f.allCalls(); f.reset(); return c },
		IsWrite:  func(c string) bool { return !strings.HasPrefix(c, "List") }}, f
}

func TestActuatorExecuteRollback(t *testing.T) {
	tests := []struct {
		name string
		act  connectors.Action
		// wantCall is the Step's Call; wantMut the mutating requests
		// Execute sends; change edits the expected state after Execute.
		wantCall string
		wantMut  []string
		change   func(s *iamState)
		// rollbackMut are the requests the first Rollback sends.
		rollbackMut []string
	}{
		{
			name:        "disable_credential sets the approved key Inactive",
			act:         connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active},
			wantCall:    "iam:UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Inactive",
			wantMut:     []string{"UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Inactive"},
			change:      func(s *iamState) { s.Keys["deploy-bot"][0].Status = "Inactive" },
			rollbackMut: []string{"UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Active"},
		},
		{
			name: "disable_credential with the full approved fingerprint",
			act: connectors.Action{Type: ActionDisableCredential, Target: awsid.AccessKeyNodeID(acct, "etl", etlKey2),
				Params: withParams(ParamStatus, "active", ParamFingerprint, awsid.KeyFingerprint(etlKey2))},
			wantCall:    "iam:UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Inactive",
			wantMut:     []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Inactive"},
			change:      func(s *iamState) { s.Keys["etl"][1].Status = "Inactive" },
			rollbackMut: []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Active"},
		},
		{
			name:        "deactivate_identity sets every Active key Inactive and restores only those",
			act:         connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/deploy-bot"), Params: active},
			wantCall:    "iam:UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Inactive",
			wantMut:     []string{"UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Inactive"},
			change:      func(s *iamState) { s.Keys["deploy-bot"][0].Status = "Inactive" },
			rollbackMut: []string{"UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Active"},
		},
		{
			name:     "deactivate_identity with two Active keys",
			act:      connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")},
			wantCall: "iam:UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01,AKIA…EY02 Status=Inactive",
			wantMut: []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Inactive",
				"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Inactive"},
			change: func(s *iamState) { s.Keys["etl"][0].Status, s.Keys["etl"][1].Status = "Inactive", "Inactive" },
			rollbackMut: []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Active",
				"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Active"},
		},
		{
			name:        "deactivate_identity of a user under a path",
			act:         connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/ci/ci-bot"), Params: active},
			wantCall:    "iam:UpdateAccessKey UserName=ci-bot AccessKeyId=AKIA…KEY1 Status=Inactive",
			wantMut:     []string{"UpdateAccessKey UserName=ci-bot AccessKeyId=AKIA…KEY1 Status=Inactive"},
			change:      func(s *iamState) { s.Keys["ci-bot"][0].Status = "Inactive" },
			rollbackMut: []string{"UpdateAccessKey UserName=ci-bot AccessKeyId=AKIA…KEY1 Status=Active"},
		},
		{
			name: "revoke_grant from a user (policy on the second page)",
			act: connectors.Action{Type: ActionRevokeGrant, Target: id("user/etl"),
				Params: withParams(ParamPolicyARN, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", ParamStatus, "active")},
			wantCall:    "iam:DetachUserPolicy UserName=etl PolicyArn=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
			wantMut:     []string{"DetachUserPolicy UserName=etl PolicyArn=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
			change:      func(s *iamState) { s.Attached["user/etl"] = []string{"arn:aws:iam::111122223333:policy/etl-write"} },
			rollbackMut: []string{"AttachUserPolicy UserName=etl PolicyArn=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
		},
		{
			name:     "revoke_grant from a role",
			act:      connectors.Action{Type: ActionRevokeGrant, Target: id("role/web-server"), Params: withParams(ParamPolicyARN, "arn:aws:iam::111122223333:policy/web-logs")},
			wantCall: "iam:DetachRolePolicy RoleName=web-server PolicyArn=arn:aws:iam::111122223333:policy/web-logs",
			wantMut:  []string{"DetachRolePolicy RoleName=web-server PolicyArn=arn:aws:iam::111122223333:policy/web-logs"},
			change: func(s *iamState) {
				s.Attached["role/web-server"] = []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
			},
			rollbackMut: []string{"AttachRolePolicy RoleName=web-server PolicyArn=arn:aws:iam::111122223333:policy/web-logs"},
		},
		{
			name:        "revoke_grant from a group",
			act:         connectors.Action{Type: ActionRevokeGrant, Target: id("group/deployers"), Params: withParams(ParamPolicyARN, "arn:aws:iam::111122223333:policy/deploy")},
			wantCall:    "iam:DetachGroupPolicy GroupName=deployers PolicyArn=arn:aws:iam::111122223333:policy/deploy",
			wantMut:     []string{"DetachGroupPolicy GroupName=deployers PolicyArn=arn:aws:iam::111122223333:policy/deploy"},
			change:      func(s *iamState) { s.Attached["group/deployers"] = nil },
			rollbackMut: []string{"AttachGroupPolicy GroupName=deployers PolicyArn=arn:aws:iam::111122223333:policy/deploy"},
		},
		{
			name:        "remove_membership (group on the second page)",
			act:         connectors.Action{Type: ActionRemoveMembership, Target: id("user/etl"), Params: withParams(ParamGroup, id("group/deployers"), ParamStatus, "active")},
			wantCall:    "iam:RemoveUserFromGroup UserName=etl GroupName=deployers",
			wantMut:     []string{"RemoveUserFromGroup UserName=etl GroupName=deployers"},
			change:      func(s *iamState) { s.Groups["etl"] = []string{"readers"} },
			rollbackMut: []string{"AddUserToGroup UserName=etl GroupName=deployers"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, f := actuatorSuite(t)
			before := f.state()
			actuatortest.Lifecycle(t, s, actuatortest.Case{Action: tc.act,
				ExecuteWrites: tc.wantMut, RollbackWrites: tc.rollbackMut,
				Planned: func(t testing.TB, plan []connectors.Step) {
					wantPlan := tc.wantCall
					if tc.act.Type == ActionDeactivateIdentity {
						// Plan does not contact IAM, so it cannot name the keys.
						user := tc.wantCall[len("iam:UpdateAccessKey UserName="):strings.Index(tc.wantCall, " AccessKeyId")]
						wantPlan = "iam:UpdateAccessKey UserName=" + user + " Status=Inactive for every Active key ListAccessKeys returns"
					}
					if len(plan) != 1 || plan[0].Call != wantPlan {
						t.Errorf("plan = %+v, want one step %q", plan, wantPlan)
					}
				},
				Executed: func(t testing.TB, step connectors.Step, _ []string) {
					if step.Call != tc.wantCall {
						t.Errorf("step call = %q, want %q", step.Call, tc.wantCall)
					}
					want := initialState()
					tc.change(&want)
					if got := f.state(); !reflect.DeepEqual(got, want.clone()) {
						t.Errorf("state after execute = %+v, want %+v", got, want.clone())
					}
				},
				RolledBack: func(t testing.TB, _ connectors.Step, _ []string) {
					if got := f.state(); !reflect.DeepEqual(got, before) {
						t.Errorf("state after rollback = %+v, want the original %+v", got, before)
					}
				}})
		})
	}
}

func TestActuatorTargetChanged(t *testing.T) {
	tests := []struct {
		name   string
		act    connectors.Action
		change func(s *iamState)
	}{
		{"key set Inactive since approval", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active},
			func(s *iamState) { s.Keys["deploy-bot"][0].Status = "Inactive" }},
		{"key deleted since approval", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active},
			func(s *iamState) { s.Keys["deploy-bot"] = s.Keys["deploy-bot"][1:] }},
		{"key deleted and another key created", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active},
			func(s *iamState) {
				s.Keys["deploy-bot"] = []fakeKey{{"AKIAEXAMPLENEWKEY001", "Active", "2026-11-24T00:00:00Z"}, s.Keys["deploy-bot"][1]}
			}},
		{"user deleted", connectors.Action{Type: ActionDisableCredential, Target: awsid.AccessKeyNodeID(acct, "etl", etlKey), Params: active},
			func(s *iamState) { delete(s.Keys, "etl") }},
		{"approved key is already Inactive", connectors.Action{Type: ActionDisableCredential, Target: awsid.AccessKeyNodeID(acct, "deploy-bot", deployKey2), Params: active},
			func(s *iamState) {}},
		{"user has no Active key", connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/idle"), Params: active},
			func(s *iamState) {}},
		{"user deleted before deactivate", connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")},
			func(s *iamState) { delete(s.Keys, "etl") }},
		{"policy detached since approval", connectors.Action{Type: ActionRevokeGrant, Target: id("user/deploy-bot"), Params: withParams(ParamPolicyARN, "arn:aws:iam::aws:policy/AdministratorAccess")},
			func(s *iamState) { s.Attached["user/deploy-bot"] = nil }},
		{"role deleted", connectors.Action{Type: ActionRevokeGrant, Target: id("role/web-server"), Params: withParams(ParamPolicyARN, "arn:aws:iam::111122223333:policy/web-logs")},
			func(s *iamState) { delete(s.Attached, "role/web-server") }},
		{"user left the group", connectors.Action{Type: ActionRemoveMembership, Target: id("user/ci-bot"), Params: withParams(ParamGroup, id("group/ops-oncall"))},
			func(s *iamState) { s.Groups["ci-bot"] = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, f := actuatorSuite(t)
			var want iamState
			actuatortest.Refuses(t, s, actuatortest.Drift{Action: tc.act,
				Change: func(testing.TB) { tc.change(&f.st); want = f.state() },
				Refused: func(t testing.TB, _ error) {
					if got := f.state(); !reflect.DeepEqual(got, want) {
						t.Errorf("state changed: %+v", got)
					}
				}})
		})
	}
}

func TestActuatorRejects(t *testing.T) {
	tests := []struct {
		name        string
		act         connectors.Action
		unsupported bool
		wantErr     string
	}{
		{"rotate_credential", connectors.Action{Type: "rotate_credential", Target: deployKeyNode, Params: active}, true, `"rotate_credential"`},
		{"delete", connectors.Action{Type: "delete", Target: id("user/etl")}, true, `"delete"`},
		{"deactivate a role", connectors.Action{Type: ActionDeactivateIdentity, Target: id("role/web-server")}, true, "on a role"},
		{"disable a user", connectors.Action{Type: ActionDisableCredential, Target: id("user/etl"), Params: active}, true, "on a user"},
		{"disable a signing certificate", connectors.Action{Type: ActionDisableCredential, Target: awsid.CertSlotNodeID(acct, "etl", 1), Params: active}, true, "signing-certificate"},
		{"revoke_grant on an access key", connectors.Action{Type: ActionRevokeGrant, Target: deployKeyNode, Params: withParams(ParamPolicyARN, "arn:aws:iam::aws:policy/AdministratorAccess")}, true, "access-key"},
		{"remove_membership of a role", connectors.Action{Type: ActionRemoveMembership, Target: id("role/web-server"), Params: withParams(ParamGroup, id("group/readers"))}, true, "on a role"},
		{"status missing", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode}, false, `param "status"`},
		{"approved status disabled", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: withParams(ParamStatus, "disabled")}, false, "nothing to change"},
		{"fingerprint of another key", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: withParams(ParamStatus, "active", ParamFingerprint, deployKey2Fp)}, false, "not the fingerprint"},
		{"slot key", connectors.Action{Type: ActionDisableCredential, Target: awsid.AccessKeySlotNodeID(acct, "etl", 1), Params: active}, false, "--live"},
		{"malformed key id", connectors.Action{Type: ActionDisableCredential, Target: id("access-key/etl/nothex"), Params: active}, false, "malformed access key"},
		{"other account", connectors.Action{Type: ActionDeactivateIdentity, Target: "aws:999988887777:user/etl"}, false, "not in source aws:111122223333"},
		{"not an aws node", connectors.Action{Type: ActionDeactivateIdentity, Target: "postgres:prod:role/etl"}, false, "not in source"},
		{"policy_arn missing", connectors.Action{Type: ActionRevokeGrant, Target: id("user/etl")}, false, `param "policy_arn" is required`},
		{"policy_arn not a policy", connectors.Action{Type: ActionRevokeGrant, Target: id("user/etl"), Params: withParams(ParamPolicyARN, "arn:aws:iam::111122223333:role/x")}, false, "not an IAM managed policy ARN"},
		{"policy in another account", connectors.Action{Type: ActionRevokeGrant, Target: id("user/etl"), Params: withParams(ParamPolicyARN, "arn:aws:iam::999988887777:policy/p")}, false, "in account 999988887777"},
		{"group missing", connectors.Action{Type: ActionRemoveMembership, Target: id("user/etl")}, false, `param "group"`},
		{"group is a role", connectors.Action{Type: ActionRemoveMembership, Target: id("user/etl"), Params: withParams(ParamGroup, id("role/web-server"))}, false, "is not a group"},
	}
	s, _ := actuatorSuite(t)
	var cases []actuatortest.Reject
	for _, tc := range tests {
		cases = append(cases, actuatortest.Reject{Name: tc.name, Action: tc.act, Unsupported: tc.unsupported, Err: tc.wantErr})
	}
	actuatortest.Rejects(t, s, cases)
}

func TestActuatorRollbackRefuses(t *testing.T) {
	key := connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active}
	user := connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")}
	tests := []struct {
		name    string
		act     connectors.Action
		step    func(done connectors.Step) connectors.Step
		change  func(s *iamState)
		wantErr string
		changed bool // ErrTargetChanged
	}{
		{"undo of another key", key, func(d connectors.Step) connectors.Step {
			d.Undo = map[string]string{UndoCall: d.Undo[UndoCall], UndoUser: "deploy-bot", UndoAccessKeys: deployKey2Fp}
			return d
		}, nil, "does not belong", false},
		{"undo of another action", user, func(connectors.Step) connectors.Step {
			return connectors.Step{Undo: map[string]string{UndoUser: "etl", UndoGroup: "deployers"}}
		}, nil, "does not belong", false},
		{"undo naming a key id instead of a fingerprint", user, func(d connectors.Step) connectors.Step {
			d.Undo = map[string]string{UndoCall: d.Undo[UndoCall], UndoUser: "etl", UndoAccessKeys: etlKey}
			return d
		}, nil, "does not belong", false},
		{"key deleted since", key, func(d connectors.Step) connectors.Step { return d },
			func(s *iamState) { s.Keys["deploy-bot"] = s.Keys["deploy-bot"][1:] }, "deleted; cannot be restored", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, f := newTestActuator(t)
			done, err := a.Execute(context.Background(), tc.act)
			if err != nil {
				t.Fatal(err)
			}
			if tc.change != nil {
				tc.change(&f.st)
			}
			f.reset()
			err = a.Rollback(context.Background(), tc.act, tc.step(done))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, connectors.ErrTargetChanged) != tc.changed {
				t.Fatalf("err = %v, want %q (ErrTargetChanged %t)", err, tc.wantErr, tc.changed)
			}
			actuatortest.NoSecret(t, actSecrets, "error", err)
			if m := f.mutations(); len(m) != 0 {
				t.Errorf("rollback sent %q", m)
			}
		})
	}
}

// A failure part-way through deactivate_identity re-activates the keys
// already set Inactive, so no change is left unrecorded.
func TestActuatorDeactivateCompensates(t *testing.T) {
	a, f := newTestActuator(t)
	before := f.state()
	// Requests: ListAccessKeys page 1, page 2, UpdateAccessKey key 1,
	// UpdateAccessKey key 2 (denied), then the compensation.
	f.failAt = 4
	_, err := a.Execute(context.Background(), connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "re-activated") {
		t.Fatalf("err = %v, want AccessDenied with the first key re-activated", err)
	}
	actuatortest.NoSecret(t, actSecrets, "error", err)
	want := []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Inactive",
		"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Inactive",
		"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Active"}
	if got := f.mutations(); !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
	if got := f.state(); !reflect.DeepEqual(got, before) {
		t.Errorf("state = %+v, want the original", got)
	}
}

func TestActuatorErrors(t *testing.T) {
	tests := []struct {
		name   string
		act    connectors.Action
		failAt int
		want   string
	}{
		{"re-read denied", connectors.Action{Type: ActionRevokeGrant, Target: id("group/readers"), Params: withParams(ParamPolicyARN, "arn:aws:iam::aws:policy/ReadOnlyAccess")}, 1, "ListAttachedGroupPolicies GroupName=readers"},
		{"write denied", connectors.Action{Type: ActionRemoveMembership, Target: id("user/ci-bot"), Params: withParams(ParamGroup, id("group/ops-oncall"))}, 2, "iam:RemoveUserFromGroup UserName=ci-bot GroupName=ops-oncall"},
		{"key write denied", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active}, 3, "AccessKeyId=AKIA…MPLE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, f := newTestActuator(t)
			before := f.state()
			f.failAt = tc.failAt
			_, err := a.Execute(context.Background(), tc.act)
			if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want AccessDenied naming %q", err, tc.want)
			}
			if errors.Is(err, connectors.ErrTargetChanged) {
				t.Errorf("a denied call is not a changed target: %v", err)
			}
			actuatortest.NoSecret(t, actSecrets, "error", err)
			if got := f.state(); !reflect.DeepEqual(got, before) {
				t.Errorf("state changed: %+v", got)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		a, f := newTestActuator(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := a.Execute(ctx, connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")}); err == nil {
			t.Fatal("execute with a cancelled context succeeded")
		}
		if m := f.mutations(); len(m) != 0 {
			t.Errorf("requests %q with a cancelled context", m)
		}
	})
}

func TestNewActuatorConfig(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")
	tests := []struct {
		name string
		cfg  ActuatorConfig
		want string
	}{
		{"account missing", ActuatorConfig{Credentials: creds}, "account: want a 12-digit"},
		{"account malformed", ActuatorConfig{Account: "1234", Credentials: creds}, "account: want a 12-digit"},
		{"no credentials of its own", ActuatorConfig{Account: acct}, "profile: required"},
		{"unknown profile", ActuatorConfig{Account: acct, Profile: "steward-actuator"}, "steward-actuator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			liveEnv(t)
			_, err := NewActuator(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// A change that lands between the re-read and the write makes IAM answer
// NoSuchEntity; the actuator reports ErrTargetChanged, undoes its partial
// work and never repeats the key id IAM's message quotes.
func TestActuatorRace(t *testing.T) {
	tests := []struct {
		name    string
		act     connectors.Action
		race    func(action string, st *iamState)
		wantMut []string
	}{
		{"key deleted before UpdateAccessKey", connectors.Action{Type: ActionDisableCredential, Target: deployKeyNode, Params: active},
			func(action string, st *iamState) {
				if action == "UpdateAccessKey" {
					st.Keys["deploy-bot"] = slices.DeleteFunc(st.Keys["deploy-bot"], func(k fakeKey) bool { return k.ID == deployKey1 })
				}
			}, []string{"UpdateAccessKey UserName=deploy-bot AccessKeyId=AKIA…MPLE Status=Inactive"}},
		{"second key deleted during deactivate_identity", connectors.Action{Type: ActionDeactivateIdentity, Target: id("user/etl")},
			func(action string, st *iamState) {
				if action == "UpdateAccessKey" && st.Keys["etl"][0].Status == "Inactive" {
					st.Keys["etl"] = st.Keys["etl"][:1]
				}
			}, []string{"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Inactive",
				"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY02 Status=Inactive",
				"UpdateAccessKey UserName=etl AccessKeyId=AKIA…EY01 Status=Active"}},
		{"policy detached before DetachRolePolicy", connectors.Action{Type: ActionRevokeGrant, Target: id("role/web-server"), Params: withParams(ParamPolicyARN, "arn:aws:iam::111122223333:policy/web-logs")},
			func(action string, st *iamState) {
				if action == "DetachRolePolicy" {
					st.Attached["role/web-server"] = st.Attached["role/web-server"][:1]
				}
			}, []string{"DetachRolePolicy RoleName=web-server PolicyArn=arn:aws:iam::111122223333:policy/web-logs"}},
		{"user removed before RemoveUserFromGroup", connectors.Action{Type: ActionRemoveMembership, Target: id("user/ci-bot"), Params: withParams(ParamGroup, id("group/ops-oncall"))},
			func(action string, st *iamState) {
				if action == "RemoveUserFromGroup" {
					st.Groups["ci-bot"] = nil
				}
			}, []string{"RemoveUserFromGroup UserName=ci-bot GroupName=ops-oncall"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, f := newTestActuator(t)
			f.race = tc.race
			_, err := a.Execute(context.Background(), tc.act)
			if !errors.Is(err, connectors.ErrTargetChanged) {
				t.Fatalf("err = %v, want ErrTargetChanged", err)
			}
			actuatortest.NoSecret(t, actSecrets, "error", err)
			if got := f.mutations(); !slices.Equal(got, tc.wantMut) {
				t.Errorf("requests = %q, want %q", got, tc.wantMut)
			}
		})
	}
}
