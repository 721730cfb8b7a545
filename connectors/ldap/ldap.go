// Package ldap reads an LDAP directory, Active Directory first, into the
// graph: service accounts (accounts with a servicePrincipalName, computer
// accounts, standalone and group managed service accounts), people (kind
// user, whose e-mail and DN let owner resolution follow managedBy), groups
// and their nested memberships, and the admin groups (Domain Admins,
// Enterprise Admins, Administrators) as admin grants on the directory.
//
// It reads a live server over ldap:// or ldaps:// with the paged-results
// control, or an LDIF export (ldapsearch, ldifde, slapcat); both paths
// build the graph from the same entries, so a file and a server holding
// the same objects give the same subgraph.
//
// With its own credentials (actuator-bind-dn, actuator-password-file) the
// connector is also a connectors.Actuator that disables accounts and
// removes group memberships; see actuator.go. Without them the value New
// returns does not implement Actuator at all.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// Option names: a public contract (CLI flags and sync config keys).
const (
	OptURL                  = "url"
	OptBindDN               = "bind-dn"
	OptPasswordFile         = "password-file"
	OptBaseDN               = "base-dn"
	OptFrom                 = "from"
	OptPageSize             = "page-size"
	OptInsecureSkipVerify   = "insecure-skip-verify"
	OptCAFile               = "ca-file"
	OptStartTLS             = "start-tls"
	OptActuatorBindDN       = "actuator-bind-dn"
	OptActuatorPasswordFile = "actuator-password-file"
)

// DefaultPageSize is below AD's default MaxPageSize (1000) and OpenLDAP's
// default size limit (500), so the default works against both.
const DefaultPageSize = 500

// dialTimeout bounds connecting when ctx has no deadline of its own.
const dialTimeout = 30 * time.Second

func init() {
	connectors.Register(connectors.Registration{
		Name:     "ldap",
		Summary:  "LDAP / Active Directory (live over ldap(s):// with paging, or an LDIF export): service accounts, gMSA/sMSA, users, nested groups, admin groups",
		Actuator: actuatorRegistration,
		Expect:   expect,
		Words:    words,
		Options: []connectors.Option{
			{Name: OptURL, Usage: "server URL, ldaps://dc1.example.com or ldap://host:389 (or give from)"},
			{Name: OptBindDN, Usage: "DN to bind as for reading (read-only account)"},
			{Name: OptPasswordFile, Usage: "file holding the bind password"},
			{Name: OptBaseDN, Usage: "search base, e.g. dc=example,dc=com (required with url; inferred from the dc= suffix of an LDIF file)"},
			{Name: OptFrom, Usage: "path of an LDIF export to read instead of a server"},
			{Name: OptPageSize, Usage: fmt.Sprintf("entries per page of the paged search (default %d)", DefaultPageSize)},
			{Name: OptInsecureSkipVerify, Usage: "do not verify the server certificate (testing only)", Bool: true},
			{Name: OptCAFile, Usage: "PEM file of CA certificates to trust for ldaps:// or start-tls (e.g. the enterprise CA)"},
			{Name: OptStartTLS, Usage: "upgrade an ldap:// connection with StartTLS before binding", Bool: true},
			{Name: OptActuatorBindDN, Usage: "DN the actuator binds as to disable accounts and remove memberships (separate from bind-dn)"},
			{Name: OptActuatorPasswordFile, Usage: "file holding the actuator's bind password"},
		},
		New: newFromOptions,
	})
}

// Config says what to read.
type Config struct {
	URL          string
	BindDN       string
	PasswordFile string
	BaseDN       string
	From         string // LDIF export; exclusive with URL
	PageSize     uint32
	// TLS is used for ldaps:// URLs and StartTLS; nil means system roots.
	TLS *tls.Config
	// StartTLS upgrades an ldap:// connection before the bind.
	StartTLS bool
	// ReadFile reads PasswordFile and From; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	Logger   *slog.Logger
}

// Reader reads one directory or one LDIF file.
type Reader struct {
	cfg Config
}

var _ connectors.Reader = (*Reader)(nil)

// NewReader checks cfg and returns a reader.
func NewReader(cfg Config) (*Reader, error) {
	if (cfg.URL == "") == (cfg.From == "") {
		return nil, errors.New("ldap: give exactly one of url and from")
	}
	if cfg.URL != "" {
		if err := checkURL(cfg.URL); err != nil {
			return nil, err
		}
		if cfg.BaseDN == "" || cfg.BindDN == "" || cfg.PasswordFile == "" {
			return nil, errors.New("ldap: url needs base-dn, bind-dn and password-file")
		}
		if cfg.StartTLS && strings.HasPrefix(cfg.URL, "ldaps:") {
			return nil, errors.New("ldap: start-tls is for ldap:// URLs; ldaps:// is already TLS")
		}
	}
	if cfg.BaseDN != "" {
		if _, err := scopeOf(cfg.BaseDN); err != nil {
			return nil, err
		}
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.ReadFile == nil {
		cfg.ReadFile = os.ReadFile
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Reader{cfg: cfg}, nil
}

// actingReader is what New returns when actuator credentials are given:
// the only value of this package that implements connectors.Actuator
// through the registry.
type actingReader struct {
	*Reader
	*Actuator
}

var _ connectors.Actuator = actingReader{}

func newFromOptions(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	readFile := env.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	cfg := Config{
		URL: opts[OptURL], BindDN: opts[OptBindDN], PasswordFile: opts[OptPasswordFile],
		BaseDN: opts[OptBaseDN], From: opts[OptFrom], ReadFile: readFile, Logger: env.Logger,
	}
	if v := opts[OptPageSize]; v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("ldap: option %s: want a positive integer, got %q", OptPageSize, v)
		}
		cfg.PageSize = uint32(n)
	}
	tc, err := tlsConfig(opts, readFile)
	if err != nil {
		return nil, err
	}
	cfg.TLS = tc
	if cfg.StartTLS, err = opts.Bool(OptStartTLS); err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	r, err := NewReader(cfg)
	if err != nil {
		return nil, err
	}
	if opts[OptActuatorBindDN] == "" && opts[OptActuatorPasswordFile] == "" {
		return r, nil
	}
	if opts[OptActuatorBindDN] != "" && strings.EqualFold(opts[OptActuatorBindDN], opts[OptBindDN]) {
		return nil, errors.New("ldap: actuator-bind-dn must differ from bind-dn: the reader's account stays read-only")
	}
	a, err := NewActuator(ActuatorConfig{
		URL: cfg.URL, BaseDN: cfg.BaseDN, BindDN: opts[OptActuatorBindDN],
		PasswordFile: opts[OptActuatorPasswordFile], TLS: tc, StartTLS: cfg.StartTLS, ReadFile: readFile,
	})
	if err != nil {
		return nil, err
	}
	return actingReader{Reader: r, Actuator: a}, nil
}

func tlsConfig(opts connectors.Options, readFile func(string) ([]byte, error)) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var err error
	if tc.InsecureSkipVerify, err = opts.Bool(OptInsecureSkipVerify); err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	if f := opts[OptCAFile]; f != "" {
		pem, err := readFile(f)
		if err != nil {
			return nil, fmt.Errorf("ldap: read ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: ca-file %s: no PEM certificates", f)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("ldap: url: %w", err)
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return fmt.Errorf("ldap: url %q: scheme must be ldap or ldaps", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("ldap: url %q: no host", raw)
	}
	return nil
}

// Read reads every account, person and group under the base DN and
// returns one subgraph. Any unreadable entry fails the read.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var (
		entries []*entry
		baseDN  = r.cfg.BaseDN
		err     error
	)
	if r.cfg.From != "" {
		data, err := r.cfg.ReadFile(r.cfg.From)
		if err != nil {
			return nil, fmt.Errorf("ldap: read %s: %w", r.cfg.From, err)
		}
		if data, err = input.Check(r.cfg.From, data, input.LDIF); err != nil {
			return nil, fmt.Errorf("ldap: %w", err)
		}
		entries, err = parseLDIF(r.cfg.From, data)
		if err != nil {
			return nil, err
		}
		if baseDN == "" {
			if baseDN, err = inferBaseDN(r.cfg.From, entries); err != nil {
				return nil, err
			}
		}
	} else {
		entries, err = r.search(ctx)
		if err != nil {
			return nil, err
		}
	}
	sg, err := build(baseDN, entries, r.cfg.Logger)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}

// search runs one paged subtree search for the objects the connector maps.
func (r *Reader) search(ctx context.Context) ([]*entry, error) {
	if u, _ := url.Parse(r.cfg.URL); u.Scheme == "ldap" && !r.cfg.StartTLS && !isLoopback(u.Hostname()) {
		r.cfg.Logger.Warn("ldap: bind password sent without TLS; use ldaps:// or start-tls", "url", r.cfg.URL)
	}
	conn, err := bind(ctx, endpoint{r.cfg.URL, r.cfg.TLS, r.cfg.StartTLS}, r.cfg.BindDN, r.cfg.PasswordFile, r.cfg.ReadFile)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	req := goldap.NewSearchRequest(r.cfg.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(|(objectClass=person)(objectClass=group)(objectClass=groupOfNames))", requested, nil)
	res, err := conn.SearchWithPaging(req, r.cfg.PageSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ldap: search %s: %w", r.cfg.BaseDN, ctx.Err())
		}
		return nil, fmt.Errorf("ldap: search %s under %q: %w", r.cfg.URL, r.cfg.BaseDN, err)
	}
	out := make([]*entry, 0, len(res.Entries))
	for _, le := range res.Entries {
		e := &entry{DN: le.DN, Attrs: map[string][]string{}}
		for _, a := range le.Attributes {
			name, vals := strings.ToLower(a.Name), a.ByteValues
			if strings.IndexByte(name, ';') >= 0 {
				// AD returns a multi-valued attribute larger than its
				// MaxValRange in slices ("member;range=0-1499"); the rest
				// must be fetched, or members would silently go missing.
				attr, lo, hi, last, err := parseRange(name)
				if err != nil || lo != 0 {
					return nil, &EntryError{DN: le.DN, Attr: a.Name, Msg: "unsupported attribute option (only AD range retrieval is)"}
				}
				if !last {
					more, err := fetchRanges(ctx, conn, le.DN, attr, hi+1)
					if err != nil {
						return nil, err
					}
					vals = append(vals, more...)
				}
				name = attr
			}
			for _, v := range vals {
				e.Attrs[name] = append(e.Attrs[name], string(v))
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// parseRange splits an AD range option, "member;range=1500-2999" or
// "member;range=1500-*" (the last slice).
func parseRange(name string) (attr string, lo, hi int, last bool, err error) {
	attr, opt, _ := strings.Cut(name, ";")
	spec, ok := strings.CutPrefix(opt, "range=")
	if !ok {
		return "", 0, 0, false, fmt.Errorf("option %q", opt)
	}
	los, his, ok := strings.Cut(spec, "-")
	if !ok {
		return "", 0, 0, false, fmt.Errorf("range %q", spec)
	}
	if lo, err = strconv.Atoi(los); err != nil || lo < 0 {
		return "", 0, 0, false, fmt.Errorf("range %q", spec)
	}
	if his == "*" {
		return attr, lo, 0, true, nil
	}
	if hi, err = strconv.Atoi(his); err != nil || hi < lo {
		return "", 0, 0, false, fmt.Errorf("range %q", spec)
	}
	return attr, lo, hi, false, nil
}

// fetchRanges reads the values of attr on dn from index next onwards, one
// base-object search per slice, as MS-ADTS 3.1.1.3.1.3.3 describes.
func fetchRanges(ctx context.Context, s *session, dn, attr string, next int) ([][]byte, error) {
	var out [][]byte
	for {
		want := fmt.Sprintf("%s;range=%d-*", attr, next)
		res, err := s.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{want}, nil))
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("ldap: read %s of %q: %w", want, dn, ctx.Err())
			}
			return nil, fmt.Errorf("ldap: read %s of %q: %w", want, dn, err)
		}
		if len(res.Entries) != 1 {
			return nil, &EntryError{DN: dn, Attr: want, Msg: fmt.Sprintf("range read returned %d entries", len(res.Entries))}
		}
		found := false
		for _, a := range res.Entries[0].Attributes {
			name := strings.ToLower(a.Name)
			if !strings.HasPrefix(name, attr+";") {
				continue
			}
			_, lo, hi, last, err := parseRange(name)
			if err != nil || lo != next {
				return nil, &EntryError{DN: dn, Attr: a.Name, Msg: fmt.Sprintf("asked for values from %d, got %q", next, a.Name)}
			}
			out = append(out, a.ByteValues...)
			if last {
				return out, nil
			}
			next, found = hi+1, true
		}
		if !found {
			return nil, &EntryError{DN: dn, Attr: want, Msg: "range read returned no values"}
		}
	}
}

// endpoint is where and how to connect.
type endpoint struct {
	url      string
	tls      *tls.Config
	startTLS bool
}

// bind dials ep and binds. The connection is closed when ctx ends, so a
// cancelled read does not hang on a slow server.
func bind(ctx context.Context, ep endpoint, dn, passwordFile string, readFile func(string) ([]byte, error)) (*session, error) {
	rawURL, tc := ep.url, ep.tls
	pw, err := readFile(passwordFile)
	if err != nil {
		return nil, fmt.Errorf("ldap: read password file: %w", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")
	if password == "" {
		// an empty password is an unauthenticated bind (RFC 4513 5.1.2),
		// which many servers accept and which reads nothing
		return nil, fmt.Errorf("ldap: password file %s is empty", passwordFile)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("ldap: url: %w", err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	nd := &net.Dialer{Timeout: dialTimeout}
	var c net.Conn
	if u.Scheme == "ldaps" {
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c, err = (&tls.Dialer{NetDialer: nd, Config: tc}).DialContext(ctx, "tcp", host)
	} else {
		c, err = nd.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ldap: connect %s: %w", rawURL, ctx.Err())
		}
		return nil, fmt.Errorf("ldap: connect %s: %w", rawURL, err)
	}
	conn := goldap.NewConn(c, u.Scheme == "ldaps")
	conn.Start()
	s := &session{Conn: conn, stop: context.AfterFunc(ctx, func() { conn.Close() })}
	if ep.startTLS {
		c := tc.Clone()
		if c == nil {
			c = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if c.ServerName == "" {
			c.ServerName = u.Hostname()
		}
		if err := conn.StartTLS(c); err != nil {
			s.Close()
			return nil, fmt.Errorf("ldap: starttls with %s: %w", rawURL, err)
		}
	}
	if err := conn.Bind(dn, password); err != nil {
		s.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ldap: bind to %s: %w", rawURL, ctx.Err())
		}
		return nil, fmt.Errorf("ldap: bind to %s as %q: %w", rawURL, dn, err)
	}
	return s, nil
}

// session is a bound connection and the ctx watcher that closes it.
type session struct {
	*goldap.Conn
	stop func() bool
}

// Close stops watching ctx and closes the connection.
func (s *session) Close() {
	s.stop()
	s.Conn.Close()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
