package gcp

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// fakePrivateKey is the fake privateKeyData of key-created-my-sa-42dc41453.json.
const fakePrivateKey = "RkFLRS1URVNULU9OTFktbm90LWEtcmVhbC1wcml2YXRlLWtleQ=="

const src = "gcp:cloud-custodian:"

var quiet = connectors.Env{Logger: slog.New(slog.DiscardHandler)}

func newFromDir(t *testing.T, dir, project string) connectors.Reader {
	t.Helper()
	opts := connectors.Options{"from": dir}
	if project != "" {
		opts["project"] = project
	}
	return connectortest.New(t, "gcp", opts, quiet)
}

func readTestdata(t *testing.T) []*graph.Subgraph {
	t.Helper()
	return connectortest.Suite(t, func() connectors.Reader { return newFromDir(t, "testdata", "cloud-custodian") },
		[]string{fakePrivateKey})
}

func TestSuite(t *testing.T) {
	sgs := readTestdata(t)
	if len(sgs) != 1 || sgs[0].Source != "gcp:cloud-custodian" {
		t.Fatalf("got %d subgraphs, first source %q", len(sgs), sgs[0].Source)
	}
	connectortest.EveryGrantRated(t, sgs)
}

func TestInferProject(t *testing.T) {
	sgs := connectortest.Read(t, newFromDir(t, "testdata", ""))
	if got := sgs[0].Source; got != "gcp:cloud-custodian" {
		t.Fatalf("source = %q, want gcp:cloud-custodian (from the service-account list)", got)
	}
}

// TestUserManagedKeysOlderThan90Days answers "GCP service accounts with
// user-managed keys older than 90 days" from the graph facts.
func TestUserManagedKeysOlderThan90Days(t *testing.T) {
	sgs := readTestdata(t)
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var got []string
	seen := map[string]bool{}
	for _, e := range connectortest.Edges(sgs, graph.EdgeHasCredential, "", "") {
		k := connectortest.Find(t, sgs, e.To)
		if k.Subtype != "sa_key" || k.Attrs["key_type"] != "USER_MANAGED" || k.Status != graph.StatusActive {
			continue
		}
		if now.Sub(k.CreatedAt) > 90*24*time.Hour && !seen[e.From] {
			seen[e.From] = true
			got = append(got, e.From)
		}
	}
	sort.Strings(got)
	want := []string{src + "serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("service accounts with old user-managed keys = %v, want %v", got, want)
	}

	key := connectortest.Find(t, sgs, want[0]+"/keys/2")
	if !key.CreatedAt.Equal(time.Date(2021, 3, 31, 13, 27, 15, 0, time.UTC)) {
		t.Errorf("key 2 CreatedAt = %v", key.CreatedAt)
	}
	if !key.ExpiresAt.IsZero() || key.Attrs["never_expires"] != "true" {
		t.Errorf("key 2 expiry: ExpiresAt %v never_expires %q, want zero and true", key.ExpiresAt, key.Attrs["never_expires"])
	}
	sys := connectortest.Find(t, sgs, want[0]+"/keys/1")
	if sys.Attrs["key_type"] != "SYSTEM_MANAGED" || sys.Attrs["customer_held"] != "false" ||
		!sys.ExpiresAt.Equal(time.Date(2021, 4, 9, 14, 7, 1, 0, time.UTC)) {
		t.Errorf("system-managed key = %+v", sys)
	}
	recent := connectortest.Find(t, sgs, src+"serviceAccounts/my-sa-42dc41453@c7n-policy-dev.iam.gserviceaccount.com/keys/0f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6")
	if recent.Name != "0f9e…c7d6" || recent.Attrs[graph.AttrKeyIDMasked] != "0f9e…c7d6" {
		t.Errorf("recent key name %q masked %q", recent.Name, recent.Attrs[graph.AttrKeyIDMasked])
	}
}

func TestGrantsPrivilege(t *testing.T) {
	sgs := readTestdata(t)
	abc := src + "serviceAccounts/abc@testproject.iam.gserviceaccount.com"
	tests := []struct {
		name, from, to, role string
		want                 graph.Privilege
	}{
		{"project owner is admin", abc, src + "projects/custodian-test", "roles/owner", graph.PrivAdmin},
		{"org owner is admin", abc, src + "organizations/111111111111", "roles/owner", graph.PrivAdmin},
		{"editor is write", src + "serviceAccounts/def@testproject.iam.gserviceaccount.com", src + "projects/custodian-test", "roles/editor", graph.PrivWrite},
		{"viewer is read", src + "user/abc@gmail.com", src + "projects/custodian-test", "roles/viewer", graph.PrivRead},
		{"folderAdmin can set folder IAM so admin", src + "user/abc@gmail.com", src + "folders/222222222222", "roles/resourcemanager.folderAdmin", graph.PrivAdmin},
		{"unknown predefined role is write", abc, src + "folders/222222222222", "roles/admin", graph.PrivWrite},
		{"public editor", src + "allUsers", src + "organizations/111111111111", "roles/editor", graph.PrivWrite},
		{"security reviewer is read", src + "serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com", src + "projects/cloud-custodian", "roles/iam.securityReviewer", graph.PrivRead},
		{"grant on a service account", src + "user/first_last@example.com", src + "serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com", "roles/iam.serviceAccountTest1", graph.PrivWrite},
		{"domain member", src + "domain/example.com", src + "projects/cloud-custodian", "roles/storage.objectViewer", graph.PrivRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found bool
			for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, tt.from, tt.to) {
				if e.Action == tt.role {
					found = true
					if e.Privilege != tt.want || e.Effect != graph.EffectAllow {
						t.Errorf("privilege %q effect %q, want %q allow", e.Privilege, e.Effect, tt.want)
					}
				}
			}
			if !found {
				t.Fatalf("no grants edge %s -[%s]-> %s", tt.from, tt.role, tt.to)
			}
		})
	}
	// The organization policy lists roles/owner for abc once, roles/admin
	// twice: duplicates merge into one edge.
	if n := len(connectortest.Edges(sgs, graph.EdgeGrants, abc, src+"organizations/111111111111")); n != 2 {
		t.Errorf("abc has %d grants on the organization, want 2 (owner, admin)", n)
	}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if strings.Contains(n.ID, "abcdefg") {
				t.Errorf("member without a type prefix became node %q", n.ID)
			}
		}
	}
}

func TestImpersonation(t *testing.T) {
	sgs := readTestdata(t)
	projectSAs := []string{
		src + "serviceAccounts/old-etl@cloud-custodian.iam.gserviceaccount.com",
		src + "serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com",
		src + "serviceAccounts/test-sa-actions@cloud-custodian.iam.gserviceaccount.com",
	}
	tests := []struct {
		name, from  string
		conditional bool
		want        []string
	}{
		{"project-wide serviceAccountUser reaches every SA of the project", src + "group/deployers@example.com", false, projectSAs[1:]},
		{"conditional token creator", src + "user/ci-admin@example.com", true, projectSAs[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range connectortest.Edges(sgs, graph.EdgeCanAssume, tt.from, "") {
				got = append(got, e.To)
				if e.Conditional != tt.conditional {
					t.Errorf("edge to %s conditional = %v", e.To, e.Conditional)
				}
				if tt.conditional && !strings.Contains(e.Attrs["condition_expression"], "request.time") {
					t.Errorf("condition not recorded: %v", e.Attrs)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("can_assume targets = %v, want %v", got, tt.want)
			}
		})
	}
	// A deleted member is recorded as disabled, not as the live account.
	del := connectortest.Find(t, sgs, src+"deleted/serviceAccounts/old-etl@cloud-custodian.iam.gserviceaccount.com")
	if del.Status != graph.StatusDisabled {
		t.Errorf("deleted member status %q", del.Status)
	}
	disabled := connectortest.Find(t, sgs, src+"serviceAccounts/test-sa-actions@cloud-custodian.iam.gserviceaccount.com")
	if disabled.Status != graph.StatusDisabled || disabled.Kind != graph.KindServiceAccount {
		t.Errorf("disabled account = %+v", disabled)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"truncated", []string{"serviceaccounts.json", "offset 300", "unexpected end of JSON input"}},
		{"wrongtype", []string{"project-p1.policy.json", "bindings.members"}},
		{"badtime", []string{"keys.json", "keys[0].validAfterTime"}},
		{"keyname", []string{"keys.json", "keys[0].name"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			connectortest.Bad(t, newFromDir(t, filepath.Join("testdata", "bad", tt.dir), "p1"), tt.want...)
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"neither", connectors.Options{}, "one of the options from or live"},
		{"both", connectors.Options{"from": "testdata", "live": "true", "project": "p"}, "exclusive"},
		{"live without project", connectors.Options{"live": "true"}, "project is required"},
		{"bad bool", connectors.Options{"live": "maybe"}, "option live"},
	}
	for _, tt := range tests {
		connectortest.Refuses(t, tt.name, "gcp", tt.opts, quiet, tt.want)
	}
}

// TestLive drives the official iam/v1 and cloudresourcemanager/v1 clients
// against a local server that answers with the recorded responses.
func TestLive(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const proj = "/v1/projects/cloud-custodian"
	const sa = proj + "/serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com"
	var page2Asked bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+proj+"/serviceAccounts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pageToken") == "" {
			w.Write([]byte(`{"accounts":[{"name":"projects/cloud-custodian/serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com","projectId":"c7n-policy-dev","uniqueId":"111111111111111111111111111","email":"my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com","displayName":"My Test Service Account 1","etag":"0123401231","oauth2ClientId":"111111111111111111111111111"}],"nextPageToken":"p2"}`))
			return
		}
		page2Asked = true
		w.Write([]byte(`{"accounts":` + string(read("serviceaccounts-list-disabled.json")) + `}`))
	})
	mux.HandleFunc("GET "+proj+"/serviceAccounts/{sa}/keys", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sa") == "test-sa-actions@cloud-custodian.iam.gserviceaccount.com" {
			w.Write(read("keys-test-cutodian-scc.json"))
			return
		}
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("POST "+sa+":getIamPolicy", func(w http.ResponseWriter, r *http.Request) {
		w.Write(read("my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com.policy.json"))
	})
	mux.HandleFunc("POST "+proj+"/serviceAccounts/{sa}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":1,"etag":"ACAB"}`))
	})
	mux.HandleFunc("POST "+proj+":getIamPolicy", func(w http.ResponseWriter, r *http.Request) {
		w.Write(read("project-cloud-custodian.policy.json"))
	})
	var ancestryAsked int
	mux.HandleFunc("POST "+proj+":getAncestry", func(w http.ResponseWriter, r *http.Request) {
		ancestryAsked++
		w.Write([]byte(`{"ancestor":[{"resourceId":{"type":"project","id":"cloud-custodian"}},{"resourceId":{"type":"folder","id":"222222222222"}},{"resourceId":{"type":"organization","id":"111111111111"}}]}`))
	})
	mux.HandleFunc("POST /v3/folders/222222222222:getIamPolicy", func(w http.ResponseWriter, r *http.Request) {
		w.Write(read("folders-222222222222.policy.json"))
	})
	mux.HandleFunc("POST /v1/organizations/111111111111:getIamPolicy", func(w http.ResponseWriter, r *http.Request) {
		w.Write(read("organizations-111111111111.policy.json"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	newLive := func() connectors.Reader {
		r, err := connectors.New("gcp", connectors.Options{"live": "true", "project": "cloud-custodian", "endpoint": srv.URL + "/"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		r.(*Reader).httpClient = srv.Client()
		return r
	}
	sgs := connectortest.Suite(t, newLive, nil)
	if !page2Asked {
		t.Error("the second page of service accounts was never requested")
	}
	connectortest.Find(t, sgs, src+"serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com")
	// keys listed under test-sa-actions name test-cutodian-scc in their
	// resource names; the key's own name wins.
	k := connectortest.Find(t, sgs, src+"serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com/keys/2")
	if k.Attrs["key_type"] != "USER_MANAGED" {
		t.Errorf("live key = %+v", k)
	}
	if len(connectortest.Edges(sgs, graph.EdgeGrants, src+"user/first_last@example.com",
		src+"serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com")) != 2 {
		t.Error("service-account IAM policy grants missing from live read")
	}
	owners := connectortest.Edges(sgs, graph.EdgeGrants, src+"serviceAccounts/my-sa-42dc41452@c7n-policy-dev.iam.gserviceaccount.com", src+"projects/cloud-custodian")
	if len(owners) != 1 || owners[0].Privilege != graph.PrivAdmin {
		t.Errorf("live project owner grant = %+v", owners)
	}
	for _, tt := range []struct{ from, to, role string }{
		{src + "user/abc@gmail.com", src + "folders/222222222222", "roles/resourcemanager.folderAdmin"},
		{src + "serviceAccounts/abc@testproject.iam.gserviceaccount.com", src + "organizations/111111111111", "roles/owner"},
	} {
		var found bool
		for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, tt.from, tt.to) {
			found = found || (e.Action == tt.role && e.Privilege == graph.PrivAdmin)
		}
		if !found {
			t.Errorf("ancestor grant %s -[%s]-> %s missing from live read", tt.from, tt.role, tt.to)
		}
	}

	t.Run("project-only", func(t *testing.T) {
		before := ancestryAsked
		r, err := connectors.New("gcp", connectors.Options{"live": "true", "project": "cloud-custodian", "endpoint": srv.URL + "/", "project-only": "true"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		r.(*Reader).httpClient = srv.Client()
		sgs := connectortest.Read(t, r)
		if ancestryAsked != before {
			t.Error("project-only read asked for the ancestry")
		}
		for _, sg := range sgs {
			for _, n := range sg.Nodes {
				if n.Kind == graph.KindAccount && n.Subtype != targetProject {
					t.Errorf("project-only read has ancestor %s", n.ID)
				}
			}
		}
	})

	t.Run("server error", func(t *testing.T) {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.list' denied","status":"PERMISSION_DENIED"}}`, http.StatusForbidden)
		}))
		t.Cleanup(bad.Close)
		r, err := connectors.New("gcp", connectors.Options{"live": "true", "project": "cloud-custodian", "endpoint": bad.URL + "/"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		r.(*Reader).httpClient = bad.Client()
		sgs, err := r.Read(context.Background())
		if err == nil || !strings.Contains(err.Error(), "list service accounts of projects/cloud-custodian") || sgs != nil {
			t.Fatalf("Read = %v, %v; want a list error and no graph", sgs, err)
		}
	})
}

// Issue 13 item 5: a recorded API response ({"headers","body"}) is read
// for its body, and a policy file needs no special name (it is then the
// export's project's).
func TestRecordedAndUnnamedExports(t *testing.T) {
	for _, dir := range []string{"testdata/recorded", "testdata/unnamedpolicy"} {
		r, err := connectors.New("gcp", connectors.Options{"from": dir, "project": "cloud-custodian"}, connectors.Env{})
		if err != nil {
			t.Fatal(err)
		}
		sgs, err := r.Read(t.Context())
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		grants := 0
		for _, e := range sgs[0].Edges {
			if e.Kind == graph.EdgeGrants || e.Kind == graph.EdgeAttachedTo || e.Kind == graph.EdgeMemberOf {
				grants++
			}
		}
		if len(sgs[0].Nodes) < 2 {
			t.Errorf("%s: %d nodes, %d grant edges: nothing read", dir, len(sgs[0].Nodes), grants)
		}
	}
}
