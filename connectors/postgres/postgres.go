// Package postgres reads a PostgreSQL server's roles and privileges into
// the graph: login roles (service accounts, unless named as people by the
// person-roles option), group roles and their memberships, role attributes
// (superuser, createrole, bypassrls, replication), database, schema and
// table privileges from the catalogs' ACLs, role expiry and when each role
// was last seen connected.
//
// PostgreSQL cannot tell a person's login from an application's: both are
// roles with LOGIN. The connector therefore treats every login role as a
// service_account unless person-roles says otherwise, so nothing that can
// log in is left out of the non-human inventory by a guess.
//
// Roles and database-level privileges are cluster-wide; schema and table
// privileges are read from the database the DSN names. One reader covers
// one database; its source is "postgres:<name>".
//
// With its own DSN (actuator-dsn or actuator-dsn-file, a different role
// from the reader's) the connector is also a connectors.Actuator that can
// set NOLOGIN on a role and revoke privileges or role memberships; see
// actuator.go. Without it the value New returns does not implement
// Actuator at all.
package postgres

import (
	"fmt"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/steward-oss/steward/connectors"
)

// Option names: a public contract (CLI flags and sync config keys).
const (
	OptDSN             = "dsn"
	OptDSNFile         = "dsn-file"
	OptName            = "name"
	OptPersonRoles     = "person-roles"
	OptActuatorDSN     = "actuator-dsn"
	OptActuatorDSNFile = "actuator-dsn-file"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:     "postgres",
		Summary:  "PostgreSQL roles, memberships, role attributes, database/schema/table privileges, expiry and sessions",
		Actuator: actuatorRegistration,
		Expect:   expect,
		Words:    words,
		Options: []connectors.Option{
			{Name: OptDSN, Usage: "connection string of the read-only role (prefer dsn-file: a DSN can hold a password)"},
			{Name: OptDSNFile, Usage: "file holding the reader's connection string"},
			{Name: OptName, Usage: "source scope, \"postgres:<name>\" (default host[:port]/database from the DSN)"},
			{Name: OptPersonRoles, Usage: "comma-separated role names or globs (alice, dev_*) that are people's logins: kind user, not service_account"},
			{Name: OptActuatorDSN, Usage: "connection string of the role the actuator uses (must differ from the reader's)"},
			{Name: OptActuatorDSNFile, Usage: "file holding the actuator's connection string"},
		},
		New: newFromOptions,
	})
}

// Config says what to read.
type Config struct {
	// DSN is a libpq connection string or URL. It is never logged or put
	// in an error.
	DSN string
	// Name is the source scope; empty means host[:port]/database.
	Name string
	// PersonRoles are role names or path.Match globs that are people.
	PersonRoles []string
	Logger      *slog.Logger
}

// Reader reads one database of one server.
type Reader struct {
	cfg    Config
	conn   *pgx.ConnConfig
	source string
}

var _ connectors.Reader = (*Reader)(nil)

// NewReader checks cfg and returns a reader; it does not connect.
func NewReader(cfg Config) (*Reader, error) {
	cc, err := parseDSN(OptDSN, cfg.DSN)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = defaultName(cc)
	}
	for _, p := range cfg.PersonRoles {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("postgres: option %s: pattern %q: %w", OptPersonRoles, p, err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Reader{cfg: cfg, conn: cc, source: "postgres:" + cfg.Name}, nil
}

// Source is the name of the subgraph the reader emits.
func (r *Reader) Source() string { return r.source }

// parseDSN parses a connection string without ever echoing it: pgx's
// parse errors quote the input, and its password redaction is best effort.
func parseDSN(opt, dsn string) (*pgx.ConnConfig, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("postgres: option %s (or %s-file) is required", opt, opt)
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: option %s: cannot parse the connection string (not shown: it may hold a password)", opt)
	}
	return cc, nil
}

func defaultName(cc *pgx.ConnConfig) string {
	host := cc.Host
	if strings.HasPrefix(host, "/") {
		host = "localhost" // unix socket directory
	}
	if cc.Port != 0 && cc.Port != 5432 {
		host += ":" + strconv.Itoa(int(cc.Port))
	}
	return host + "/" + cc.Database
}

// actingReader is what New returns when an actuator DSN is given: the only
// value of this package that implements connectors.Actuator through the
// registry.
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
	dsn, err := dsnOption(opts, OptDSN, OptDSNFile, readFile)
	if err != nil {
		return nil, err
	}
	if dsn == "" {
		return nil, fmt.Errorf("postgres: give %s or %s", OptDSN, OptDSNFile)
	}
	cfg := Config{DSN: dsn, Name: opts[OptName], Logger: env.Logger}
	for _, p := range strings.Split(opts[OptPersonRoles], ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.PersonRoles = append(cfg.PersonRoles, p)
		}
	}
	r, err := NewReader(cfg)
	if err != nil {
		return nil, err
	}
	adsn, err := dsnOption(opts, OptActuatorDSN, OptActuatorDSNFile, readFile)
	if err != nil {
		return nil, err
	}
	if adsn == "" {
		return r, nil
	}
	a, err := NewActuator(ActuatorConfig{DSN: adsn, Name: r.cfg.Name})
	if err != nil {
		return nil, err
	}
	if a.conn.User == r.conn.User {
		return nil, fmt.Errorf("postgres: the actuator connects as %q, the reader's role: give the actuator its own role", a.conn.User)
	}
	return actingReader{Reader: r, Actuator: a}, nil
}

// dsnOption returns the DSN from opt or optFile (exactly one may be set).
func dsnOption(opts connectors.Options, opt, optFile string, readFile func(string) ([]byte, error)) (string, error) {
	v, f := opts[opt], opts[optFile]
	switch {
	case v != "" && f != "":
		return "", fmt.Errorf("postgres: give %s or %s, not both", opt, optFile)
	case f != "":
		b, err := readFile(f)
		if err != nil {
			return "", fmt.Errorf("postgres: option %s: %w", optFile, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("postgres: option %s: %s is empty", optFile, f)
		}
		return s, nil
	}
	return v, nil
}
