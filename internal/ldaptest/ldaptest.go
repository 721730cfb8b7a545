// Package ldaptest starts a real OpenLDAP slapd on 127.0.0.1 for tests, so
// LDAP code is exercised against a real directory (paging, schema checks,
// ACLs, modify semantics) instead of a mock that agrees with the code.
//
// Each Start gets its own temporary slapd.conf, mdb database, free ports
// and a self-signed certificate for ldaps://, loads the core, cosine,
// inetorgperson and nis schemas plus ad-subset.schema (Active Directory
// attribute and class names under a documentation OID arc), and is stopped
// and removed when the test ends.
//
// Under -short Start skips. When slapd (or ldapmodify, used by Seed) is not
// installed it skips, except with CI=true, where a missing server is a
// test failure: CI installs it (.ci/install-servers.sh) and a skip there
// would hide a broken setup.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

//go:embed ad-subset.schema
var adSchema []byte

// BaseDN is the suffix every test server holds.
const BaseDN = "dc=example,dc=com"

// AdminDN is the root DN of every test server; its password is random per
// server (Server.AdminPassword).
const AdminDN = "cn=admin," + BaseDN

// errExited is slapd stopping during startup, typically because another
// process took a port between freePorts and slapd binding it.
var errExited = errors.New("slapd exited during startup")

// startTimeout bounds how long Start waits for slapd to accept a bind.
const startTimeout = 30 * time.Second

// Config adjusts one server.
type Config struct {
	// SizeLimit, when positive, caps how many entries a non-root search
	// may return, and the page size of a paged search, at SizeLimit, while
	// a paged search may return any total. A client that does not page
	// then fails with sizeLimitExceeded, which is how tests prove paging.
	SizeLimit int
	// Access lines ("access to attrs=member by dn.exact=... write by users
	// read") are placed before the defaults, which let bound users read
	// everything except userPassword and let nobody but the root DN write.
	Access []string
}

// Server is one running slapd.
type Server struct {
	URL           string // ldap://127.0.0.1:port
	LDAPSURL      string // ldaps://127.0.0.1:port
	BaseDN        string
	AdminDN       string
	AdminPassword string
	// CACertPEM is the server's self-signed certificate; trust it to
	// verify ldaps:// (see TLSConfig).
	CACertPEM []byte
	// Dir is the server's private temporary directory.
	Dir string

	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
}

// Start runs a slapd and returns it once it accepts a bind as AdminDN. The
// server holds the base entry dc=example,dc=com and nothing else.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	slapd := need(t, "slapd")
	need(t, "ldapmodify")
	schemaDir, err := findDir("core.schema", "/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema", "/opt/homebrew/etc/openldap/schema")
	if err != nil {
		missing(t, "openldap schema files: "+err.Error())
	}
	// back_mdb is a loadable module on Debian and RHEL and built in
	// elsewhere; no module directory means built in.
	moduleDir, _ := findDir("back_mdb.so", "/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/local/libexec/openldap")

	dir := t.TempDir()
	s := &Server{BaseDN: BaseDN, AdminDN: AdminDN, Dir: dir, AdminPassword: randomHex(t, 16)}
	if err := os.WriteFile(filepath.Join(dir, "ad-subset.schema"), adSchema, 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.pw"), []byte(s.AdminPassword), 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	s.CACertPEM = writeCert(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(s, cfg, schemaDir, moduleDir)), 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}

	// A port picked free can be taken before slapd binds it; slapd then
	// exits at once and another pair is tried.
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.launch(slapd, conf); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("ldaptest: start slapd: %v", err)
	}
	t.Cleanup(s.stop)
	s.addBase(t)
	return s
}

func (s *Server) launch(slapd, conf string) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", ports[0])
	s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])
	s.log = &syncBuffer{}
	// -d 0 keeps slapd in the foreground (so it dies with its process
	// handle) without debug output; startup errors still reach stderr.
	cmd := exec.Command(slapd, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	wait := 5 * time.Millisecond
	for {
		conn, err := goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			err = conn.Bind(s.AdminDN, s.AdminPassword)
			conn.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w: %s", errExited, strings.TrimSpace(s.log.String()))
		case <-deadline.C:
			s.stop()
			return fmt.Errorf("slapd not ready after %v: %w (log: %s)", startTimeout, err, s.log.String())
		case <-time.After(wait):
		}
		if wait < 200*time.Millisecond {
			wait *= 2
		}
	}
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *Server) addBase(t testing.TB) {
	t.Helper()
	conn := s.Conn(t)
	req := goldap.NewAddRequest(s.BaseDN, nil)
	req.Attribute("objectClass", []string{"top", "dcObject", "organization"})
	req.Attribute("dc", []string{"example"})
	req.Attribute("o", []string{"Example"})
	if err := conn.Add(req); err != nil {
		t.Fatalf("ldaptest: add base entry: %v", err)
	}
}

// Conn returns a connection bound as AdminDN, closed when the test ends.
func (s *Server) Conn(t testing.TB) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("ldaptest: dial %s: %v", s.URL, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatalf("ldaptest: bind as admin: %v", err)
	}
	return conn
}

// TLSConfig trusts the server's self-signed certificate.
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Seed applies LDIF as the root DN with ldapmodify -a: records without a
// changetype are added, and changetype: modify/delete/modrdn records work
// too, so tests can also change state mid-test.
func (s *Server) Seed(t testing.TB, ldif string) {
	t.Helper()
	f, err := os.CreateTemp(s.Dir, "seed-*.ldif")
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(ldif); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	f.Close()
	out, err := exec.Command(need(t, "ldapmodify"), "-a", "-x", "-H", s.URL, "-D", s.AdminDN,
		"-y", filepath.Join(s.Dir, "admin.pw"), "-f", f.Name()).CombinedOutput()
	if err != nil {
		t.Fatalf("ldaptest: seed: %v: %s", err, out)
	}
}

func slapdConf(s *Server, cfg Config, schemaDir, moduleDir string) string {
	var b strings.Builder
	for _, f := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(schemaDir, f+".schema"))
	}
	fmt.Fprintf(&b, "include %s\n", filepath.Join(s.Dir, "ad-subset.schema"))
	fmt.Fprintf(&b, "pidfile %s\n", filepath.Join(s.Dir, "slapd.pid"))
	fmt.Fprintf(&b, "TLSCertificateFile %s\n", filepath.Join(s.Dir, "cert.pem"))
	fmt.Fprintf(&b, "TLSCertificateKeyFile %s\n", filepath.Join(s.Dir, "key.pem"))
	if moduleDir != "" {
		fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", moduleDir)
	}
	b.WriteString("database mdb\n")
	fmt.Fprintf(&b, "suffix %q\nrootdn %q\nrootpw %s\n", s.BaseDN, s.AdminDN, s.AdminPassword)
	fmt.Fprintf(&b, "directory %s\nmaxsize 104857600\n", filepath.Join(s.Dir, "db"))
	if cfg.SizeLimit > 0 {
		fmt.Fprintf(&b, "limits * size.soft=%d size.hard=%d size.pr=%d size.prtotal=unlimited\n",
			cfg.SizeLimit, cfg.SizeLimit, cfg.SizeLimit)
	}
	b.WriteString("access to attrs=userPassword by anonymous auth by * none\n")
	for _, a := range cfg.Access {
		b.WriteString(a + "\n")
	}
	b.WriteString("access to * by users read by * none\n")
	return b.String()
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost and returns it as PEM.
func writeCert(t testing.TB, dir string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("ldaptest: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ldaptest", Organization: []string{"Steward tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("ldaptest: create certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	return certPEM
}

// need returns the path of an OpenLDAP binary, skipping (or, with
// CI=true, failing) the test when it is missing. slapd lives in sbin,
// which is often not on a user's PATH.
func need(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("ldaptest: real slapd skipped under -short")
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/libexec", "/opt/homebrew/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	missing(t, name+" not found (install slapd and ldap-utils)")
	return ""
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("ldaptest: %s; CI=true requires a real OpenLDAP", what)
	}
	t.Skipf("ldaptest: %s", what)
}

func findDir(file string, dirs ...string) (string, error) {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, file)); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s not in any of %v", file, dirs)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer collects slapd's output, written by exec's copier goroutine
// and read by the test on failure.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
