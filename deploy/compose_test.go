package deploy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	composecli "github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	stewardcli "github.com/steward-oss/steward/cli"
	"github.com/steward-oss/steward/config"
)

func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := composecli.NewProjectOptions([]string{"docker-compose.yaml"}, composecli.WithEnv(env), composecli.WithName("steward"),
		composecli.WithWorkingDirectory("."))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// run runs the steward CLI in-process.
func run(args ...string) (int, string) {
	var out strings.Builder
	code := stewardcli.Run(context.Background(), args, &out, io.Discard)
	return code, out.String()
}

// The compose file loads as `docker compose config` would load it (the
// compose-spec loader, with interpolation and validation), and says what
// the deployment needs: PostgreSQL as the graph store, healthchecks on
// both, Steward started only once PostgreSQL is healthy, non-root and
// read-only.
func TestComposeFile(t *testing.T) {
	if _, err := loadCompose(t, nil); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Fatalf("without POSTGRES_PASSWORD: %v, want an error naming it", err)
	}
	p, err := loadCompose(t, []string{"POSTGRES_PASSWORD=pw-test", "STEWARD_API_KEYS=key-test"})
	if err != nil {
		t.Fatal(err)
	}
	pg, err := p.GetService("postgres")
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.GetService("steward")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"postgres has a healthcheck", pg.HealthCheck != nil && len(pg.HealthCheck.Test) > 1 && strings.Contains(strings.Join(pg.HealthCheck.Test, " "), "pg_isready")},
		{"postgres keeps its data in a volume", len(pg.Volumes) == 1 && pg.Volumes[0].Target == "/var/lib/postgresql/data" && pg.Volumes[0].Type == types.VolumeTypeVolume},
		{"steward waits for a healthy postgres", st.DependsOn["postgres"].Condition == types.ServiceConditionHealthy},
		{"steward has a healthcheck", st.HealthCheck != nil && len(st.HealthCheck.Test) > 2},
		{"steward builds from the repository's Dockerfile", st.Build != nil && st.Build.Dockerfile == "Dockerfile" && fileExists(filepath.Join(st.Build.Context, st.Build.Dockerfile))},
		{"steward runs as a non-root user", st.User != "" && !strings.HasPrefix(st.User, "0") && st.User != "root"},
		{"steward's root filesystem is read-only", st.ReadOnly},
		{"steward drops every capability", slices.Contains(st.CapDrop, "ALL")},
		{"steward cannot gain privileges", slices.Contains(st.SecurityOpt, "no-new-privileges:true")},
		{"steward has a writable /tmp and data volume", slices.Contains(st.Tmpfs, "/tmp") && len(st.Volumes) == 1 && st.Volumes[0].Target == "/var/lib/steward"},
		{"steward serves", len(st.Command) > 0 && st.Command[0] == "serve"},
		{"steward publishes 8080", len(st.Ports) == 1 && st.Ports[0].Target == 8080},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("compose: %s: not so", c.name)
		}
	}

	// The graph is the postgres service's database, with the password
	// given; the keys come from the environment.
	g := st.Environment["STEWARD_GRAPH"]
	if g == nil {
		t.Fatal("STEWARD_GRAPH not set")
	}
	u, err := url.Parse(*g)
	if err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" || u.Port() != "5432" || u.Path != "/"+*pg.Environment["POSTGRES_DB"] {
		t.Fatalf("STEWARD_GRAPH %q does not name the postgres service's database", *g)
	}
	if pw, _ := u.User.Password(); pw != "pw-test" || u.User.Username() != *pg.Environment["POSTGRES_USER"] {
		t.Fatalf("STEWARD_GRAPH user/password do not match the postgres service")
	}
	if k := st.Environment["STEWARD_API_KEYS"]; k == nil || *k != "key-test" {
		t.Fatal("STEWARD_API_KEYS not taken from the environment")
	}

	// The config the service mounts is a valid steward.yaml, at the path
	// its command names.
	if len(st.Configs) != 1 || !slices.Contains(st.Command, st.Configs[0].Target) {
		t.Fatalf("config mount %+v not the one the command reads (%v)", st.Configs, st.Command)
	}
	cfgFile := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(cfgFile, []byte(p.Configs[st.Configs[0].Source].Content), 0o600)
	if _, err := config.Load(cfgFile, func(k string) string { return map[string]string{"STEWARD_API_KEYS": "key-test"}[k] }); err != nil {
		t.Fatalf("mounted config: %v", err)
	}

	// The healthcheck runs a real steward command that passes against a
	// healthy server and fails against an unhealthy one.
	hc := st.HealthCheck.Test
	if hc[0] != "CMD" || hc[1] != "/usr/local/bin/steward" {
		t.Fatalf("healthcheck %v does not run the steward binary", hc)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	args := slices.Clone(hc[2:])
	for i, a := range args {
		if strings.HasPrefix(a, "http://127.0.0.1:8080") {
			args[i] = srv.URL + strings.TrimPrefix(a, "http://127.0.0.1:8080")
		}
	}
	if code, out := run(args...); code != 0 {
		t.Fatalf("healthcheck %v against a healthy server: exit %d %s", args, code, out)
	}
	srv.Close()
	if code, _ := run(args...); code == 0 {
		t.Fatal("healthcheck passed against a stopped server")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
