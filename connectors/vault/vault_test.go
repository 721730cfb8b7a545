package vault

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

const (
	scope = "vault.example.com"
	src   = "vault:" + scope
)

var accessors = []string{"hHx0vnPUUTk1Y4gx1gLQNvdJ", "Ukl2Nm1uUGlwWGNmNUhQcUVF", "ZWZpbGxlcmFjY2Vzc29yMDAw"}

func fileReader(t *testing.T, dir string, extra connectors.Options) connectors.Reader {
	t.Helper()
	opts := connectors.Options{"url": "https://" + scope + ":8200", "from": dir}
	for k, v := range extra {
		opts[k] = v
	}
	return connectortest.New(t, "vault", opts, connectors.Env{})
}

func tokenID(t *testing.T, sgs []*graph.Subgraph, masked string) graph.Node {
	t.Helper()
	for _, n := range sgs[0].Nodes {
		if n.Subtype == SubtypeToken && n.Attrs[graph.AttrKeyIDMasked] == masked {
			return n
		}
	}
	t.Fatalf("no token %s", masked)
	return graph.Node{}
}

func TestExportDir(t *testing.T) {
	sgs := connectortest.Suite(t, func() connectors.Reader {
		return fileReader(t, "testdata/cluster", connectors.Options{"k8s-cluster": "prod"})
	}, accessors)
	nodes := []struct {
		id      string
		kind    graph.Kind
		subtype string
		attrs   map[string]string
	}{
		{src + ":auth/approle/role/payments-api", graph.KindServiceAccount, SubtypeAppRole, map[string]string{"secret_id_bound_cidrs": "10.20.0.0/16", "token_ttl": "3600"}},
		{src + ":auth/kubernetes/role/payments", graph.KindRole, "kubernetes_role", map[string]string{"bound_service_account_namespaces": "payments"}},
		{src + ":auth/jwt/role/github-actions", graph.KindRole, "jwt_role", map[string]string{"bound_claims": `{"ref":"refs/heads/main","repository":"example-org/payments-api"}`, "user_claim": "actor"}},
		{src + ":auth/userpass", graph.KindResource, SubtypeAuthMethod, map[string]string{"type": "userpass"}},
		{src + ":policy/admin", graph.KindPolicy, "", map[string]string{"rules": "1"}},
		{src + ":policy/root", graph.KindPolicy, "", map[string]string{"builtin": "true"}},
	}
	for _, tt := range nodes {
		t.Run("node "+tt.id, func(t *testing.T) {
			n := connectortest.Find(t, sgs, tt.id)
			if n.Kind != tt.kind || n.Subtype != tt.subtype {
				t.Errorf("kind/subtype %s/%s", n.Kind, n.Subtype)
			}
			connectortest.HasAttrs(t, n.Attrs, tt.attrs)
		})
	}
	grants := []struct {
		name     string
		from     string
		resource string
		action   string
		effect   string
		priv     graph.Privilege
	}{
		{"sudo on * is admin", src + ":policy/admin", "*", "create,delete,list,read,sudo,update", graph.EffectAllow, graph.PrivAdmin},
		{"writing only app-* policies is write", src + ":policy/ci-deployer", "sys/policies/acl/app-*", "create,update", graph.EffectAllow, graph.PrivWrite},
		{"secret write", src + ":policy/ci-deployer", "secret/data/deploy/*", "create,read,update", graph.EffectAllow, graph.PrivWrite},
		{"deny", src + ":policy/ci-deployer", "secret/data/deploy/root-ca", "deny", graph.EffectDeny, graph.PrivNone},
		{"legacy read", src + ":policy/payments-read", "secret/data/payments/*", "list,read", graph.EffectAllow, graph.PrivRead},
		{"root is admin", src + ":policy/root", "*", "*", graph.EffectAllow, graph.PrivAdmin},
	}
	for _, tt := range grants {
		t.Run(tt.name, func(t *testing.T) {
			var hit []graph.Edge
			for _, e := range connectortest.Edges(sgs, graph.EdgeGrants, tt.from, src) {
				if e.Resource == tt.resource {
					hit = append(hit, e)
				}
			}
			if len(hit) != 1 || hit[0].Action != tt.action || hit[0].Effect != tt.effect || hit[0].Privilege != tt.priv {
				t.Fatalf("got %+v", hit)
			}
		})
	}
	edges := []struct {
		name     string
		kind     graph.EdgeKind
		from, to string
		want     int
	}{
		{"role policy", graph.EdgeAttachedTo, src + ":policy/payments-read", src + ":auth/approle/role/payments-api", 1},
		{"default policy added", graph.EdgeAttachedTo, src + ":policy/default", src + ":auth/approle/role/payments-api", 1},
		{"token_no_default_policy honoured", graph.EdgeAttachedTo, src + ":policy/default", src + ":auth/approle/role/ci-deployer", 0},
		{"k8s SA can assume", graph.EdgeCanAssume, "k8s:prod:sa/payments/payments-worker", src + ":auth/kubernetes/role/payments", 1},
		{"wildcard SA not enumerated", graph.EdgeCanAssume, "k8s:prod:sa/monitoring/*", "", 0},
		{"AWS IAM role can log in", graph.EdgeCanAssume, "aws:111122223333:role/ci/github-runner", src + ":auth/aws/role/ci-runner", 1},
		{"AWS wildcard ARN not enumerated", graph.EdgeCanAssume, "", src + ":auth/aws/role/ci-runner", 1},
	}
	for _, tt := range edges {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(connectortest.Edges(sgs, tt.kind, tt.from, tt.to)); got != tt.want {
				t.Errorf("%d edges, want %d", got, tt.want)
			}
		})
	}
	t.Run("tokens", func(t *testing.T) {
		login := tokenID(t, sgs, "hHx0…NvdJ")
		if login.CreatedAt.Unix() != 1761984000 || login.ExpiresAt.Format("2006-01-02T15:04:05Z") != "2025-11-01T09:00:00Z" ||
			login.Attrs["path"] != "auth/approle/login" || login.Attrs["policies"] != "ci-deployer" || login.LastUsedAt.IsZero() {
			t.Errorf("login token %+v", login)
		}
		if len(connectortest.Edges(sgs, graph.EdgeHasCredential, src+":auth/approle/role/ci-deployer", login.ID)) != 1 {
			t.Error("login token not held by its AppRole")
		}
		root := tokenID(t, sgs, "Ukl2…cUVF")
		if len(connectortest.Edges(sgs, graph.EdgeAttachedTo, src+":policy/root", root.ID)) != 1 || !root.ExpiresAt.IsZero() {
			t.Errorf("root token %+v", root)
		}
		orphan := tokenID(t, sgs, "ZWZp…MDAw")
		if orphan.Attrs["orphan"] != "true" || len(connectortest.Edges(sgs, graph.EdgeHasCredential, "", orphan.ID)) != 0 {
			t.Errorf("orphan token %+v", orphan)
		}
	})
	t.Run("role_id not copied", func(t *testing.T) {
		if v, ok := connectortest.Find(t, sgs, src+":auth/aws/role/ci-runner").Attrs["role_id"]; ok {
			t.Errorf("role_id = %q", v)
		}
	})
	t.Run("no k8s links without a cluster name", func(t *testing.T) {
		sgs := connectortest.Read(t, fileReader(t, "testdata/cluster", nil))
		if n := len(connectortest.Edges(sgs, graph.EdgeCanAssume, "", src+":auth/kubernetes/role/payments")); n != 0 {
			t.Errorf("%d can_assume edges", n)
		}
	})
}

// server answers like Vault's HTTP API from the recorded directory:
// X-Vault-Token auth, LIST as GET ?list=true, lookup-accessor as POST,
// 404 {"errors":[]} for a missing path.
func server(t *testing.T, dir, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Vault-Token") != token {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":["permission denied"]}`)
			return
		}
		if ns := r.Header.Get("X-Vault-Namespace"); ns != "" {
			t.Errorf("namespace %q sent; the environment must not configure the client", ns)
		}
		if r.Header.Get("X-Vault-Request") != "true" {
			t.Error("X-Vault-Request header missing")
		}
		p := strings.TrimPrefix(r.URL.Path, "/v1/")
		switch {
		case r.Method == http.MethodPost && p == "auth/token/lookup-accessor":
			var body struct{ Accessor string }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Error(err)
			}
			p += "/" + body.Accessor
		case r.Method == http.MethodGet:
			if r.URL.Query().Get("list") == "true" {
				p = strings.TrimSuffix(p, "/")
			}
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)+".json"))
		if err != nil {
			if strings.HasPrefix(p, "auth/token/lookup-accessor/") {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"errors":["invalid accessor"]}`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[]}`)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func liveReader(t *testing.T, url, token string) connectors.Reader {
	t.Helper()
	tf := connectortest.WriteTemp(t, "vault-token", token)
	r, err := connectors.New("vault", connectors.Options{"url": url, "org": scope, "live": "true", "token-file": tf, "k8s-cluster": "prod"},
		connectors.Env{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLive(t *testing.T) {
	const token = "hvs.EXAMPLEfakeVaultToken000000000"
	t.Setenv("VAULT_TOKEN", "hvs.fromTheEnvironmentMustNotBeUsed")
	t.Setenv("VAULT_NAMESPACE", "env-namespace")
	t.Run("same graph as the recorded export", func(t *testing.T) {
		srv := server(t, "testdata/cluster", token)
		live := connectortest.Suite(t, func() connectors.Reader { return liveReader(t, srv.URL, token) }, append([]string{token}, accessors...))
		files := connectortest.Read(t, fileReader(t, "testdata/cluster", connectors.Options{"k8s-cluster": "prod"}))
		connectortest.SameGraphs(t, live, files)
	})
	t.Run("expired accessor is skipped", func(t *testing.T) {
		dir := connectortest.CopyDir(t, "testdata/cluster")
		if err := os.Remove(filepath.Join(dir, "auth/token/lookup-accessor", accessors[2]+".json")); err != nil {
			t.Fatal(err)
		}
		sgs := connectortest.Read(t, liveReader(t, server(t, dir, token).URL, token))
		tokens := 0
		for _, n := range sgs[0].Nodes {
			if n.Subtype == SubtypeToken {
				tokens++
			}
		}
		if tokens != 2 {
			t.Errorf("%d tokens, want 2", tokens)
		}
	})
	t.Run("permission denied fails the read", func(t *testing.T) {
		srv := server(t, "testdata/cluster", "another")
		connectortest.Bad(t, liveReader(t, srv.URL, token), "sys/auth", "403")
	})
}

func TestBadInput(t *testing.T) {
	connectortest.BadFiles(t, fixture, []connectortest.Broken{
		{Name: "truncated", Files: map[string]string{"sys/auth.json": "{\n \"data\": {\"approle/\": {\"type\": \"appr"}, Want: []string{"sys/auth.json", "line 2", "unexpected end"}},
		{Name: "not an object", Files: map[string]string{"sys/auth.json": `[1]`}, Want: []string{"sys/auth.json", "JSON object"}},
		{Name: "mount without type", Files: map[string]string{"sys/auth.json": `{"data": {"approle/": {"accessor": "a"}}}`}, Want: []string{"sys/auth.json", `data["approle/"].type`}},
		{Name: "keys not a list", Files: map[string]string{"sys/policies/acl.json": `{"data": {"keys": "admin"}}`}, Want: []string{"sys/policies/acl", "data.keys"}},
		{Name: "listed policy missing", Files: map[string]string{"sys/policies/acl.json": `{"data": {"keys": ["admin"]}}`}, Want: []string{"sys/policies/acl/admin", "missing"}},
		{Name: "bad policy HCL", Files: map[string]string{"sys/policies/acl.json": `{"data": {"keys": ["p"]}}`,
			"sys/policies/acl/p.json": `{"data": {"name": "p", "policy": "path \"x\" {\n capabilities = [\"raed\"]\n}"}}`},
			Want: []string{filepath.Join("sys", "policies", "acl", "p.json"), "data.policy", "line 1", `"raed"`}},
		{Name: "bad role policies", Files: map[string]string{"sys/auth.json": `{"data": {"approle/": {"type": "approle"}}}`,
			"auth/approle/role.json": `{"data": {"keys": ["r"]}}`, "auth/approle/role/r.json": `{"data": {"token_policies": [1]}}`},
			Want: []string{filepath.Join("auth", "approle", "role", "r.json"), "token_policies[0]"}},
		{Name: "bad creation_time", Files: map[string]string{"auth/token/accessors.json": `{"data": {"keys": ["abcdefghijklmnop"]}}`,
			"auth/token/lookup-accessor/abcdefghijklmnop.json": `{"data": {"creation_time": "yesterday", "policies": []}}`},
			Want: []string{"abcdefghijklmnop.json", "creation_time"}},
		{Name: "empty dir", Files: map[string]string{}, Want: []string{"none of sys/auth"}},
	})
}
