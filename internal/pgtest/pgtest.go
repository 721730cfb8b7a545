// Package pgtest starts a real, throwaway PostgreSQL server for tests.
//
// The server is shared by every test of one test binary: it is initialised
// into a fresh temporary directory (initdb), listens only on 127.0.0.1 on a
// free port with its unix socket inside that directory, requires a random
// password (scram-sha-256), and runs with fsync off because its data is
// disposable. Tests ask for their own database with CreateDB, so they never
// see each other's tables.
//
// Lifetime. A package that uses the server should stop it after its last
// test by declaring
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Without that TestMain the server cannot outlive the test that started it
// safely, so it is stopped in that test's t.Cleanup and the next test that
// calls Start starts a new one (slower, still correct). In both cases the
// server process receives SIGQUIT from the kernel if the test binary dies
// (Pdeathsig), so a killed `go test` does not leave a postmaster behind
// (its temporary directory, /tmp/pgtest-*, does stay). Pdeathsig is Linux's,
// so on other systems Start fails (procattr_other.go) rather than risk that.
//
// Skipping. Under `go test -short` Start skips the calling test. When the
// PostgreSQL server binaries cannot be found the test is skipped too, unless
// the environment says CI=true: CI must exercise the real server, so there a
// missing binary is a failure (.ci/install-servers.sh installs it).
//
// Binaries are looked up in $PGTEST_BINDIR, then the newest
// /usr/lib/postgresql/*/bin (Debian's layout), then $PATH (following
// symlinks, since Debian's /usr/local/bin/initdb points into that bin dir).
//
// initdb and postgres refuse to run as root. When the test runs as root the
// server is started directly with the credentials of the "postgres" user (or
// "nobody" when that user does not exist) and the temporary directory is
// handed to that user; no su/runuser wrapper sits in between, so the
// parent-death signal reaches the postmaster itself.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the name of the bootstrap superuser of the test server.
const Superuser = "postgres"

// startTimeout bounds how long Start waits for initdb plus server
// readiness; a slow CI machine takes a few seconds, a hung one fails here.
const startTimeout = 2 * time.Minute

// Server is a running PostgreSQL server owned by the test binary.
type Server struct {
	dir      string // temporary root: data/, socket, log
	port     int
	password string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has been waited for
	waitErr  error
	logPath  string

	mu  sync.Mutex
	seq int // CreateDB counter, makes database names unique
}

var (
	mu         sync.Mutex
	shared     *Server
	mainActive bool // Main is running the tests and stops shared at the end
)

// Main runs the tests of m and then stops the shared server if one was
// started. Use it from TestMain; it returns the exit code for os.Exit.
func Main(m *testing.M) int {
	mu.Lock()
	mainActive = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	s := shared
	shared = nil
	mainActive = false
	mu.Unlock()
	if s != nil {
		if err := s.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Start returns the shared server, starting it on first use. It skips the
// test under -short or, outside CI, when PostgreSQL is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: skipping test that needs a real PostgreSQL server in -short mode")
	}
	bindir, err := findBindir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("postgresql server binaries not found; .ci/run installs postgresql: %v", err)
		}
		t.Skipf("pgtest: %v (install postgresql to run this test)", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		if !shared.alive() {
			t.Fatalf("pgtest: shared server died earlier; log:\n%s", shared.logTail())
		}
		return shared
	}
	s, err := start(bindir)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	shared = s
	if !mainActive {
		// Nobody stops the server at the end of the binary, so it must not
		// outlive this test.
		t.Cleanup(func() {
			mu.Lock()
			if shared == s {
				shared = nil
			}
			mu.Unlock()
			if err := s.stop(); err != nil {
				t.Errorf("pgtest: stop server: %v", err)
			}
		})
	}
	return s
}

// DSN returns a connection URL for database dbname as the superuser.
func (s *Server) DSN(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on (127.0.0.1 only).
func (s *Server) Port() int { return s.port }

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// CreateDB creates a fresh, empty database whose name starts with name
// and returns its DSN. The database is dropped (terminating leftover
// connections) when t finishes.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	base := nonIdent.ReplaceAllString(strings.ToLower(name), "_")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "db_" + base
	}
	if len(base) > 40 {
		base = base[:40]
	}
	s.mu.Lock()
	s.seq++
	db := fmt.Sprintf("%s_%d", base, s.seq)
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %q: %v", db, err)
	}
	t.Cleanup(func() {
		if !s.alive() {
			return // server already stopped (Main ended, or it died and a test reported it)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %q: %v", db, err)
		}
	})
	return s.DSN(db)
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s *Server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// logTail returns the end of the server log, for failure messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// findBindir locates a directory holding both initdb and postgres.
func findBindir() (string, error) {
	has := func(dir string) bool {
		for _, bin := range []string{"initdb", "postgres"} {
			fi, err := os.Stat(filepath.Join(dir, bin))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PGTEST_BINDIR"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("PGTEST_BINDIR=%s holds no initdb and postgres", dir)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", errors.New("postgresql server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or $PATH")
}

func pgVersion(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

// runAs returns the credentials to run the server with: nil when we are
// not root, else those of "postgres" or "nobody".
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			errs = append(errs, fmt.Errorf("user %q: unusable uid %q gid %q", name, u.Uid, u.Gid))
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user to run postgres as: %w", errors.Join(errs...))
}

func start(bindir string) (*Server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s, err := startIn(dir, bindir, cred)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func startIn(dir, bindir string, cred *syscall.Credential) (*Server, error) {
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("hand %s to uid %d: %w", dir, cred.Uid, err)
		}
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	s := &Server{dir: dir, password: hex.EncodeToString(pw), logPath: filepath.Join(dir, "postgres.log"), exited: make(chan struct{})}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	initdb := exec.CommandContext(ctx, filepath.Join(bindir, "initdb"),
		"--pgdata="+data, "--username="+Superuser, "--pwfile="+pwfile,
		"--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	os.Remove(pwfile)

	// A free port can be taken by someone else between our probe and the
	// server's bind; then the server exits at once and we try another.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.port = port
		s.exited = make(chan struct{})
		lastErr = s.run(ctx, bindir, data, cred)
		if lastErr == nil {
			return s, nil
		}
		if !strings.Contains(lastErr.Error(), "could not bind") && !strings.Contains(lastErr.Error(), "in use") {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts the postmaster and waits until it accepts connections.
func (s *Server) run(ctx context.Context, bindir, data string, cred *syscall.Credential) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bindir, "postgres"),
		"-D", data,
		"-k", s.dir, // unix socket in our temp dir, not /var/run/postgresql
		"-h", "127.0.0.1",
		"-p", strconv.Itoa(s.port),
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
	)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	attr, err := serverProcAttr(cred)
	if err != nil {
		return err
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd = cmd
	exited := s.exited
	go func() {
		s.waitErr = cmd.Wait()
		close(exited)
	}()

	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgx.Connect(cctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited before accepting connections (%v); log:\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("postgres not ready after %v: %w; log:\n%s", startTimeout, err, s.logTail())
		case <-tick.C:
		}
	}
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGQUIT)
		<-s.exited
	}
}

// stop shuts the server down (fast shutdown: disconnect clients, no
// checkpoint wait beyond what fsync=off makes trivial) and removes its
// directory.
func (s *Server) stop() error {
	var err error
	if s.cmd != nil && s.alive() {
		if serr := s.cmd.Process.Signal(syscall.SIGINT); serr != nil && !errors.Is(serr, os.ErrProcessDone) {
			err = fmt.Errorf("signal postgres: %w", serr)
		}
		select {
		case <-s.exited:
		case <-time.After(time.Minute):
			s.cmd.Process.Kill()
			<-s.exited
			err = errors.Join(err, errors.New("postgres did not shut down within a minute; killed"))
		}
	}
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", s.dir, rerr))
	}
	return err
}

// Log returns the last few kilobytes of the server log, for a test's own
// failure messages.
func (s *Server) Log() string { return s.logTail() }
