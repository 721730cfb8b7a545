package k8s

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

var quiet = connectors.Env{Logger: slog.New(slog.DiscardHandler)}

// fixtureSecrets are the fake secret values in testdata/cluster/secrets.json,
// raw and base64 as they appear in the file.
var fixtureSecrets = []string{
	"FAKE-TEST-TOKEN.eyJmYWtlIjoidGVzdCJ9.not-a-real-signature",
	"RkFLRS1URVNULVRPS0VOLmV5Sm1ZV3RsSWpvaWRHVnpkQ0o5Lm5vdC1hLXJlYWwtc2lnbmF0dXJl",
	"FAKE-STALE-TOKEN-for-a-deleted-account",
	"RkFLRS1TVEFMRS1UT0tFTi1mb3ItYS1kZWxldGVkLWFjY291bnQ=",
	"FAKE-DB-PASSWORD-test-only",
	"RkFLRS1EQi1QQVNTV09SRC10ZXN0LW9ubHk=",
	"last-applied-configuration",
}

const p = "k8s:prod:"

func openReader(t *testing.T, opts connectors.Options) connectors.Reader {
	t.Helper()
	return connectortest.New(t, "k8s", opts, quiet)
}

func readFixture(t *testing.T) []*graph.Subgraph {
	t.Helper()
	return connectortest.Suite(t, func() connectors.Reader {
		return openReader(t, connectors.Options{"from": "testdata/cluster", "audit-log": "testdata/audit", "cluster": "prod"})
	}, fixtureSecrets)
}

func TestSuite(t *testing.T) {
	sgs := readFixture(t)
	if sgs[0].Source != "k8s:prod" {
		t.Fatalf("source %q", sgs[0].Source)
	}
	connectortest.EveryGrantRated(t, sgs)
}

// rolesOf returns the roles attached to sa directly or through a group it
// is a member of.
func rolesOf(sgs []*graph.Subgraph, sa string) []string {
	principals := []string{sa}
	for _, e := range connectortest.Edges(sgs, graph.EdgeMemberOf, sa, "") {
		principals = append(principals, e.To)
	}
	var roles []string
	for _, pr := range principals {
		for _, e := range connectortest.Edges(sgs, graph.EdgeAttachedTo, "", pr) {
			roles = append(roles, e.From)
		}
	}
	return roles
}

func readsSecretsClusterWide(sgs []*graph.Subgraph, sa string) bool {
	for _, role := range rolesOf(sgs, sa) {
		for _, g := range connectortest.Edges(sgs, graph.EdgeGrants, role, p+"cluster") {
			if g.Resource != "secrets" && g.Resource != "*/secrets" && g.Resource != "*" {
				continue
			}
			for _, v := range strings.Split(g.Action, ",") {
				if v == "get" || v == "list" || v == "watch" || v == "*" {
					return true
				}
			}
		}
	}
	return false
}

// TestSecretsReadersClusterWide answers "which Kubernetes service accounts
// can read secrets cluster-wide".
func TestSecretsReadersClusterWide(t *testing.T) {
	sgs := readFixture(t)
	var got []string
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if n.Subtype == "k8s_service_account" && readsSecretsClusterWide(sgs, n.ID) {
				got = append(got, strings.TrimPrefix(n.ID, p+"sa/"))
			}
		}
	}
	sort.Strings(got)
	want := []string{
		"ci/runner",  // secret-reader: get/list/watch secrets
		"ci/scanner", // wildcard-reader: get/list on */*
		"kube-system/expand-controller",
		"kube-system/generic-garbage-collector",
		"kube-system/namespace-controller",
		"kube-system/ops-bot", // cluster-admin
		"kube-system/persistent-volume-binder",
		"kube-system/resourcequota-controller",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("service accounts that read secrets cluster-wide:\n got %v\nwant %v", got, want)
	}
}

func TestPrivilege(t *testing.T) {
	sgs := readFixture(t)
	tests := []struct {
		name, from, to, resource, action string
		want                             graph.Privilege
	}{
		{"cluster-admin is admin", p + "clusterrole/cluster-admin", p + "cluster", "*", "*", graph.PrivAdmin},
		{"cluster-admin in one namespace is write", p + "ns/payments/clusterrole/cluster-admin", p + "ns/payments", "*", "*", graph.PrivWrite},
		{"secret reader is read", p + "clusterrole/secret-reader", p + "cluster", "secrets", "get,list,watch", graph.PrivRead},
		{"wildcard get is read", p + "clusterrole/wildcard-reader", p + "cluster", "*", "get,list", graph.PrivRead},
		{"garbage collector writes everything", p + "clusterrole/system:controller:generic-garbage-collector", p + "cluster", "*", "delete,get,list,patch,update,watch", graph.PrivWrite},
		{"resourceNames narrow the resource", p + "ns/payments/clusterrole/deploy-manager", p + "ns/payments", "configmaps/payments-config", "get", graph.PrivRead},
		{"subresource", p + "clusterrole/deploy-manager", p + "cluster", "apps/deployments/scale", "get,list,patch,update", graph.PrivWrite},
		{"non-resource URL", p + "clusterrole/system:discovery", p + "cluster", "nonResourceURL:/healthz", "get", graph.PrivRead},
		{"namespaced Role", p + "role/payments/payments-reader", p + "ns/payments", "secrets", "get", graph.PrivRead},
		{"same-named Roles stay apart", p + "role/kube-public/system:controller:bootstrap-signer", p + "ns/kube-public", "configmaps", "get,list,watch", graph.PrivRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, tt.from, tt.to) {
				if e.Resource == tt.resource && e.Action == tt.action {
					if e.Privilege != tt.want {
						t.Fatalf("privilege %q, want %q", e.Privilege, tt.want)
					}
					return
				}
			}
			t.Fatalf("no grant %s -[%s %s]-> %s", tt.from, tt.action, tt.resource, tt.to)
		})
	}
	t.Run("only cluster-admin holders are admin", func(t *testing.T) {
		var admins []string
		for _, sg := range sgs {
			for _, e := range sg.Edges {
				if e.Kind == graph.EdgeGrants && e.Privilege == graph.PrivAdmin {
					admins = append(admins, e.From)
				}
			}
		}
		sort.Strings(admins)
		admins = dedupe(admins)
		if want := []string{p + "clusterrole/cluster-admin"}; !reflect.DeepEqual(admins, want) {
			t.Fatalf("admin grants from %v, want %v", admins, want)
		}
		var holders []string
		for _, e := range connectortest.Edges(sgs, graph.EdgeAttachedTo, p+"clusterrole/cluster-admin", "") {
			holders = append(holders, e.To+" via "+e.Attrs[graph.AttrVia])
		}
		sort.Strings(holders)
		want := []string{p + "group/system:masters via ClusterRoleBinding/cluster-admin", p + "sa/kube-system/ops-bot via ClusterRoleBinding/ops-bot-admin"}
		if !reflect.DeepEqual(holders, want) {
			t.Fatalf("cluster-admin attached to %v, want %v", holders, want)
		}
	})
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func TestAggregation(t *testing.T) {
	sgs := readFixture(t)
	has := func(role, resource, verb string) bool {
		for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, p+"clusterrole/"+role, p+"cluster") {
			if e.Resource == resource && strings.Contains(","+e.Action+",", ","+verb+",") {
				return true
			}
		}
		return false
	}
	tests := []struct {
		role, resource, verb string
		want                 bool
	}{
		{"view", "pods", "list", true},    // from system:aggregate-to-view
		{"view", "secrets", "get", false}, // view never reads secrets
		{"edit", "secrets", "get", true},  // from system:aggregate-to-edit
		{"edit", "pods", "list", true},    // view is labelled aggregate-to-edit
		{"admin", "secrets", "delete", true},
		{"admin", "pods", "watch", true}, // admin <- edit <- view
		{"admin", "rbac.authorization.k8s.io/rolebindings", "create", true},
	}
	for _, tt := range tests {
		t.Run(tt.role+" "+tt.verb+" "+tt.resource, func(t *testing.T) {
			if got := has(tt.role, tt.resource, tt.verb); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIdentitiesAndCredentials(t *testing.T) {
	sgs := readFixture(t)
	runner := connectortest.Find(t, sgs, p+"sa/ci/runner")
	if runner.Kind != graph.KindWorkload || runner.Subtype != "k8s_service_account" || runner.Tags["owner"] != "platform-team@example.com" || runner.Attrs["listed"] != "" {
		t.Errorf("runner = %+v", runner)
	}
	ns := connectortest.Find(t, sgs, p+"ns/payments")
	if ns.Tags["owner"] != "payments@example.com" || ns.Tags["team"] != "payments" {
		t.Errorf("namespace tags = %v", ns.Tags)
	}
	tok := connectortest.Find(t, sgs, p+"secret/ci/runner-token")
	if tok.Kind != graph.KindCredential || tok.Subtype != "sa_token" || tok.Status != graph.StatusActive ||
		!tok.CreatedAt.Equal(time.Date(2024, 2, 1, 9, 30, 0, 0, time.UTC)) || len(tok.Tags) != 0 {
		t.Errorf("runner token = %+v", tok)
	}
	if len(connectortest.Edges(sgs, graph.EdgeHasCredential, p+"sa/ci/runner", tok.ID)) != 1 {
		t.Error("runner does not hold its token")
	}
	stale := connectortest.Find(t, sgs, p+"secret/ci/scanner-token-old")
	if stale.Status != graph.StatusDisabled || stale.Attrs["stale"] != "true" {
		t.Errorf("token of a deleted account = %+v", stale)
	}
	for _, sg := range sgs {
		for _, n := range sg.Nodes {
			if strings.Contains(n.ID, "db-credentials") {
				t.Errorf("opaque secret became node %q", n.ID)
			}
		}
	}
	comp := connectortest.Find(t, sgs, p+"user/system:kube-controller-manager")
	if comp.Kind != graph.KindServiceAccount {
		t.Errorf("control-plane user kind %q", comp.Kind)
	}
	tests := []struct {
		sa, group string
		want      bool
	}{
		{"default/default", "system:serviceaccounts", true},
		{"ci/scanner", "system:serviceaccounts:ci", true},
		{"payments/api", "system:serviceaccounts:ci", false},
		{"kube-system/kube-dns", "system:serviceaccounts", true},
	}
	for _, tt := range tests {
		t.Run(tt.sa+" in "+tt.group, func(t *testing.T) {
			got := len(connectortest.Edges(sgs, graph.EdgeMemberOf, p+"sa/"+tt.sa, p+"group/"+tt.group)) == 1
			if got != tt.want {
				t.Fatalf("member_of = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuditUsage(t *testing.T) {
	sgs := readFixture(t)
	find := func(from, to, action, resource string) graph.Edge {
		t.Helper()
		for _, e := range connectortest.Edges(sgs, graph.EdgeUsed, from, to) {
			if e.Action == action && e.Resource == resource {
				return e
			}
		}
		t.Fatalf("no used edge %s -[%s %s]-> %s", from, action, resource, to)
		return graph.Edge{}
	}
	tests := []struct {
		name, from, to, action, resource string
		last                             time.Time
		attrs                            map[string]string
	}{
		{"latest of two requests, one counted per request", p + "sa/ci/runner", p + "ns/payments", "get", "secrets",
			time.Date(2026, 11, 21, 17, 40, 11, 509870000, time.UTC),
			map[string]string{"count": "2", graph.AttrSourceIP: "10.20.3.14", graph.AttrUserAgent: "ci-runner/1.4.3 (linux/amd64)", graph.AttrUsedAction: "get secrets", "response_code": "200"}},
		{"subresource of a group", p + "sa/ci/runner", p + "ns/payments", "patch", "apps/deployments/scale",
			time.Date(2026, 11, 21, 17, 41, 0, 20000000, time.UTC), map[string]string{"count": "1"}},
		{"impersonated, denied", p + "sa/ns1/sa1", p + "ns/default", "list", "pods",
			time.Date(2017, 9, 11, 20, 1, 26, 0, time.UTC), map[string]string{"count": "2", "response_code": "403", "impersonated_by": "system:admin", graph.AttrSourceIP: "::1"}},
		{"cluster scope", p + "sa/ns1/sa1", p + "cluster", "list", "pods",
			time.Date(2017, 9, 11, 20, 1, 50, 0, time.UTC), map[string]string{"count": "2", "response_code": "200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := find(tt.from, tt.to, tt.action, tt.resource)
			if !e.LastSeen.Equal(tt.last) {
				t.Errorf("LastSeen %v, want %v", e.LastSeen, tt.last)
			}
			connectortest.HasAttrs(t, e.Attrs, tt.attrs)
		})
	}
	sa1 := connectortest.Find(t, sgs, p+"sa/ns1/sa1")
	if sa1.Attrs["listed"] != "false" {
		t.Errorf("sa1, seen only in the audit log, = %+v", sa1)
	}
	// Users that are not service accounts leave no usage.
	for _, sg := range sgs {
		for _, e := range sg.Edges {
			if e.Kind == graph.EdgeUsed && !strings.HasPrefix(e.From, p+"sa/") {
				t.Errorf("used edge from non-service-account %s", e.From)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		opts connectors.Options
		want []string
	}{
		{"truncated json", connectors.Options{"from": "testdata/bad/truncated"}, []string{"serviceaccounts.json", "offset 700", "unexpected end of JSON input"}},
		{"wrong type", connectors.Options{"from": "testdata/bad/wrongtype"}, []string{"clusterroles.json", "items[1].rules.verbs"}},
		{"yaml syntax", connectors.Options{"from": "testdata/bad/yaml"}, []string{"roles.yaml", "line 6"}},
		{"no kind", connectors.Options{"from": "testdata/bad/nokind"}, []string{"thing.json", "kind"}},
		{"no name", connectors.Options{"from": "testdata/bad/noname"}, []string{"sa.json", "metadata.name"}},
		{"audit line", connectors.Options{"audit-log": "testdata/bad/audit/audit.log"}, []string{"audit.log", "line 2", "unexpected end of JSON input"}},
		{"missing dir", connectors.Options{"from": "testdata/nope"}, []string{"testdata/nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			connectortest.Bad(t, openReader(t, tt.opts), tt.want...)
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts connectors.Options
		want string
	}{
		{"nothing", connectors.Options{}, "one of the options"},
		{"two sources", connectors.Options{"from": "x", "kubeconfig": "y"}, "exclusive"},
		{"context alone", connectors.Options{"from": "x", "context": "c"}, "context needs kubeconfig"},
	}
	for _, tt := range tests {
		connectortest.Refuses(t, tt.name, "k8s", tt.opts, quiet, tt.want)
	}
}

// apiServer answers client-go's list calls with the fixture objects in the
// API server's List format, serving cluster roles in two pages.
func apiServer(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	in, err := readDir("testdata/cluster", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	list := func(kind, apiVersion string, items any, cont string) []byte {
		b, err := json.Marshal(map[string]any{"kind": kind, "apiVersion": apiVersion,
			"metadata": map[string]any{"resourceVersion": "4711", "continue": cont}, "items": items})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const rbac = "rbac.authorization.k8s.io/v1"
	mux := http.NewServeMux()
	serve := func(path string, body func(r *http.Request) []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			calls = append(calls, r.URL.Path+"?"+r.URL.RawQuery)
			if got := r.Header.Get("Authorization"); got != "Bearer fake-test-kubeconfig-token" {
				http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body(r))
		})
	}
	serve("/api/v1/namespaces", func(*http.Request) []byte { return list("NamespaceList", "v1", in.namespaces, "") })
	serve("/api/v1/serviceaccounts", func(*http.Request) []byte { return list("ServiceAccountList", "v1", in.serviceAccounts, "") })
	serve("/api/v1/secrets", func(r *http.Request) []byte {
		if r.URL.Query().Get("fieldSelector") != "type=kubernetes.io/service-account-token" {
			t.Errorf("secrets listed without the token field selector: %q", r.URL.RawQuery)
		}
		return list("SecretList", "v1", in.tokenSecrets, "")
	})
	serve("/apis/"+rbac+"/roles", func(*http.Request) []byte { return list("RoleList", rbac, in.roles, "") })
	serve("/apis/"+rbac+"/clusterroles", func(r *http.Request) []byte {
		half := len(in.clusterRoles) / 2
		if r.URL.Query().Get("continue") == "" {
			return list("ClusterRoleList", rbac, in.clusterRoles[:half], "page-2-token")
		}
		return list("ClusterRoleList", rbac, in.clusterRoles[half:], "")
	})
	serve("/apis/"+rbac+"/rolebindings", func(*http.Request) []byte { return list("RoleBindingList", rbac, in.roleBindings, "") })
	serve("/apis/"+rbac+"/clusterrolebindings", func(*http.Request) []byte {
		return list("ClusterRoleBindingList", rbac, in.clusterRoleBindings, "")
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, &calls
}

// writeKubeconfig points context prod-admin at srv, trusting its
// certificate. client-go only sends credentials over TLS.
func writeKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: %s
    certificate-authority-data: %s
- name: staging
  cluster:
    server: http://127.0.0.1:1
contexts:
- name: prod-admin
  context:
    cluster: prod
    user: steward
- name: staging-admin
  context:
    cluster: staging
    user: steward
current-context: staging-admin
users:
- name: steward
  user:
    token: fake-test-kubeconfig-token
`, srv.URL, ca)
	path := connectortest.WriteTemp(t, "kubeconfig", cfg)
	return path
}

// TestLive reads the fixture cluster through client-go from a local API
// server and checks it gives the same graph as the export.
func TestLive(t *testing.T) {
	srv, calls := apiServer(t)
	kc := writeKubeconfig(t, srv)
	live := connectortest.Suite(t, func() connectors.Reader {
		return openReader(t, connectors.Options{"kubeconfig": kc, "context": "prod-admin"})
	}, append(fixtureSecrets, "fake-test-kubeconfig-token"))
	if live[0].Source != "k8s:prod" {
		t.Errorf("source %q, want the context's cluster name", live[0].Source)
	}
	files := connectortest.Read(t, openReader(t, connectors.Options{"from": "testdata/cluster", "cluster": "prod"}))
	if !reflect.DeepEqual(live, files) {
		t.Error("live read and export read of the same cluster differ")
	}
	var pages int
	for _, c := range *calls {
		if strings.HasPrefix(c, "/apis/rbac.authorization.k8s.io/v1/clusterroles") {
			pages++
			if !strings.Contains(c, "limit=500") {
				t.Errorf("list without a page limit: %s", c)
			}
		}
	}
	if pages != 4 { // two reads, two pages each
		t.Errorf("cluster roles fetched in %d requests, want 4", pages)
	}

	t.Run("server refuses", func(t *testing.T) {
		bad := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces is forbidden: User \"steward\" cannot list resource \"namespaces\"","reason":"Forbidden","details":{"kind":"namespaces"},"code":403}`))
		}))
		t.Cleanup(bad.Close)
		r := openReader(t, connectors.Options{"kubeconfig": writeKubeconfig(t, bad), "context": "prod-admin"})
		sgs, err := r.Read(context.Background())
		if err == nil || !strings.Contains(err.Error(), "list namespaces") || sgs != nil {
			t.Fatalf("Read = %v, %v; want a list error and no graph", sgs, err)
		}
	})
}
