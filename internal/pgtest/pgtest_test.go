package pgtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestServer(t *testing.T) {
	s := Start(t)
	if again := Start(t); again != s {
		t.Fatal("second Start returned a different server; want the shared one")
	}
	ctx := context.Background()

	tests := []struct {
		name string
		db   string
	}{
		{name: "plain", db: "alpha"},
		{name: "same name again gets its own database", db: "alpha"},
		{name: "odd characters are sanitised", db: "Store/Test-Round Trip"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := s.CreateDB(t, tc.db)
			if seen[dsn] {
				t.Fatalf("CreateDB returned DSN %q twice", dsn)
			}
			seen[dsn] = true
			if !strings.Contains(dsn, "127.0.0.1:") {
				t.Errorf("DSN %q does not point at 127.0.0.1", dsn)
			}
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(ctx)
			// A fresh database has no user tables; creating one proves we
			// can write.
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
				t.Fatalf("count tables: %v", err)
			}
			if n != 0 {
				t.Errorf("fresh database has %d tables, want 0", n)
			}
			if _, err := conn.Exec(ctx, `CREATE TABLE t (x int); INSERT INTO t VALUES (1)`); err != nil {
				t.Fatalf("write: %v", err)
			}
			var addr string
			if err := conn.QueryRow(ctx, `SELECT coalesce(inet_server_addr()::text, '')`).Scan(&addr); err != nil {
				t.Fatalf("server addr: %v", err)
			}
			if addr != "127.0.0.1/32" && addr != "127.0.0.1" {
				t.Errorf("server address %q, want 127.0.0.1", addr)
			}
		})
	}
}

func TestWrongPasswordRejected(t *testing.T) {
	s := Start(t)
	dsn := strings.Replace(s.DSN("postgres"), s.password, "not-the-password", 1)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("connected with a wrong password; the server must require the generated one")
	}
}

// TestMissingBinaries re-runs this test binary with no usable PostgreSQL
// and checks the outcome: a skip on a developer machine, a failure in CI.
func TestMissingBinaries(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		Start(t)
		t.Log("pgtest child: Start returned")
		return
	}
	tests := []struct {
		name    string
		ci      string
		wantErr bool
		want    string
	}{
		{name: "developer machine skips", ci: "", wantErr: false, want: "--- SKIP: TestMissingBinaries"},
		{name: "CI fails", ci: "true", wantErr: true, want: "postgresql server binaries not found; .ci/run installs postgresql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissingBinaries$", "-test.v")
			cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", "PGTEST_BINDIR="+t.TempDir(), "CI="+tc.ci)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantErr {
				t.Fatalf("child error = %v, want error %v; output:\n%s", err, tc.wantErr, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("child output lacks %q:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), "Start returned") {
				t.Errorf("Start returned without a server:\n%s", out)
			}
		})
	}
}
