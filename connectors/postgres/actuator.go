package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types the PostgreSQL actuator performs.
const (
	// ActionDeactivate is ALTER ROLE ... NOLOGIN on the target role.
	ActionDeactivate = action.DeactivateIdentity
	// ActionRevokeGrant revokes ParamPrivilege on ParamResource from the
	// target role, or, with ParamRole, the target's membership in a role.
	ActionRevokeGrant = action.RevokeGrant
	// ActionRemoveMembership revokes the target's membership in ParamGroup.
	ActionRemoveMembership = action.RemoveMembership
)

// Action parameters: the approved state, which Execute re-checks.
const (
	// ParamCanLogin is the approved attrs.can_login of the target role:
	// required ("true") for ActionDeactivate, checked when present on the
	// other actions.
	ParamCanLogin = AttrCanLogin
	// ParamPrivilege is the ACL privilege to revoke (SELECT, CONNECT...).
	ParamPrivilege = "privilege"
	// ParamResource is the node id of the database, schema or table.
	ParamResource = "resource"
	// ParamRole (revoke_grant) and ParamGroup (remove_membership) are the
	// node id of the role whose membership the target loses.
	ParamRole  = "role"
	ParamGroup = "group"
)

// Undo keys of a Step. UndoSQL is informational: Rollback rebuilds the
// statement from the action and the flags, never runs text from a Step.
const (
	UndoSQL         = "sql"
	UndoGrantable   = "grantable"    // the revoked privilege had WITH GRANT OPTION
	UndoAdminOption = "admin_option" // the revoked membership had WITH ADMIN OPTION
)

// privileges each object type accepts, so a privilege from Params is a
// known keyword before it is put into SQL.
var objectPrivileges = map[string][]string{
	"db":     {"CONNECT", "CREATE", "TEMPORARY"},
	"schema": {"USAGE", "CREATE"},
	"table":  {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"},
}

// ActuatorConfig holds the actuator's own connection string, for a role
// other than the reader's.
type ActuatorConfig struct {
	DSN  string
	Name string // the source scope whose node ids the actuator accepts
}

// Actuator sets roles NOLOGIN and revokes privileges and memberships. Each
// change runs in a transaction that re-reads the live state first and
// checks afterwards that the change took effect, since REVOKE by a role
// that is not the grantor succeeds without revoking anything.
type Actuator struct {
	conn   *pgx.ConnConfig
	source string
}

var _ connectors.Actuator = (*Actuator)(nil)

// NewActuator checks cfg and returns an actuator; it does not connect.
func NewActuator(cfg ActuatorConfig) (*Actuator, error) {
	cc, err := parseDSN(OptActuatorDSN, cfg.DSN)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = defaultName(cc)
	}
	return &Actuator{conn: cc, source: "postgres:" + cfg.Name}, nil
}

// op is a resolved action.
type op struct {
	typ    string // opDeactivate, opRevokePrivilege, opRevokeRole
	role   string // target role; "" with public
	public bool   // the target is PUBLIC
	priv   string
	obj    objectRef
	group  string
	// expectLogin is the approved can_login ("true"/"false") of the
	// target role for revokes, checked when set.
	expectLogin string
}

// Operations, the action split by what it changes.
const (
	opDeactivate      = string(ActionDeactivate)
	opRevokePrivilege = "revoke_privilege"
	opRevokeRole      = "revoke_role"
)

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

func (o op) grantee() string {
	if o.public {
		return "PUBLIC"
	}
	return ident(o.role)
}

func (o op) objectSQL() string {
	switch o.obj.kind {
	case "db":
		return "DATABASE " + ident(o.obj.parts[0])
	case "schema":
		return "SCHEMA " + ident(o.obj.parts[1])
	}
	return "TABLE " + ident(o.obj.parts[1], o.obj.parts[2])
}

func (o op) sql() string {
	switch o.typ {
	case opDeactivate:
		return "ALTER ROLE " + ident(o.role) + " NOLOGIN"
	case opRevokePrivilege:
		return "REVOKE " + o.priv + " ON " + o.objectSQL() + " FROM " + o.grantee()
	}
	return "REVOKE " + ident(o.group) + " FROM " + ident(o.role)
}

// undoSQL is the statement that restores what sql() removed; option says
// whether the removed grant carried WITH GRANT/ADMIN OPTION.
func (o op) undoSQL(option bool) string {
	switch o.typ {
	case opDeactivate:
		return "ALTER ROLE " + ident(o.role) + " LOGIN"
	case opRevokePrivilege:
		s := "GRANT " + o.priv + " ON " + o.objectSQL() + " TO " + o.grantee()
		if option {
			s += " WITH GRANT OPTION"
		}
		return s
	}
	s := "GRANT " + ident(o.group) + " TO " + ident(o.role)
	if option {
		s += " WITH ADMIN OPTION"
	}
	return s
}

func (o op) undo(option bool) map[string]string {
	u := map[string]string{UndoSQL: o.undoSQL(option)}
	switch o.typ {
	case opRevokePrivilege:
		u[UndoGrantable] = strconv.FormatBool(option)
	case opRevokeRole:
		u[UndoAdminOption] = strconv.FormatBool(option)
	}
	return u
}

func (a *Actuator) roleName(id string) (name string, public bool, err error) {
	ref, err := parseID(a.source, id)
	if err != nil {
		return "", false, err
	}
	if ref.kind != "role" {
		return "", false, fmt.Errorf("postgres: node %q is not a role", id)
	}
	if ref.parts[0] == PublicRole {
		return "", true, nil
	}
	return ref.parts[0], false, nil
}

func (a *Actuator) resolve(act connectors.Action) (op, error) {
	role, public, err := a.roleName(act.Target)
	if err != nil {
		return op{}, err
	}
	o := op{role: role, public: public}
	fail := func(format string, args ...any) (op, error) {
		return op{}, fmt.Errorf("postgres: %s %q: %s", act.Type, act.Target, fmt.Sprintf(format, args...))
	}
	group := act.Params[ParamGroup]
	switch act.Type {
	case ActionDeactivate:
		if public {
			return fail("PUBLIC cannot log in")
		}
		switch act.Params[ParamCanLogin] {
		case "true":
		case "":
			return fail("param %q (the approved can_login) is required", ParamCanLogin)
		default:
			return fail("the approved state has %s=%q: nothing to deactivate", ParamCanLogin, act.Params[ParamCanLogin])
		}
		o.typ = opDeactivate
		return o, nil
	}
	switch v := act.Params[ParamCanLogin]; v {
	case "", "true", "false":
		o.expectLogin = v
	default:
		return fail("param %q: want true or false, got %q", ParamCanLogin, v)
	}
	if o.expectLogin != "" && public {
		return fail("PUBLIC has no can_login")
	}
	switch act.Type {
	case ActionRevokeGrant:
		if r := act.Params[ParamRole]; r != "" {
			group = r
			break
		}
		o.typ, o.priv = opRevokePrivilege, strings.ToUpper(act.Params[ParamPrivilege])
		res := act.Params[ParamResource]
		if o.priv == "" || res == "" {
			return fail("params %q and %q (or %q) are required", ParamPrivilege, ParamResource, ParamRole)
		}
		if o.obj, err = parseID(a.source, res); err != nil {
			return op{}, err
		}
		allowed, ok := objectPrivileges[o.obj.kind]
		if !ok {
			return fail("resource %q is a %s, not a database, schema or table", res, o.obj.kind)
		}
		known := false
		for _, p := range allowed {
			known = known || p == o.priv
		}
		if !known {
			return fail("privilege %q does not apply to a %s (want one of %s)", o.priv, o.obj.kind, strings.Join(allowed, ", "))
		}
		return o, nil
	case ActionRemoveMembership:
	default:
		return op{}, fmt.Errorf("postgres: action %q: %w", act.Type, connectors.ErrUnsupported)
	}
	if group == "" {
		return fail("param %q (the role node id) is required", ParamGroup)
	}
	g, gpublic, err := a.roleName(group)
	if err != nil {
		return op{}, err
	}
	if gpublic || public {
		return fail("membership in PUBLIC is implicit and cannot be revoked")
	}
	o.typ, o.group = opRevokeRole, g
	return o, nil
}

// Plan returns the SQL Execute would run. It does not connect.
func (a *Actuator) Plan(ctx context.Context, act connectors.Action) ([]connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return nil, err
	}
	return []connectors.Step{{Call: o.sql(), Undo: o.undo(false)}}, nil
}

// state is what the live server says about an op's target: whether the
// thing the op removes is there, and whether it carries a grant/admin
// option (which the undo must restore).
type state struct {
	present bool
	option  bool
}

func (a *Actuator) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, a.conn.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: actuator: connect to %s: %w", a.source, err)
	}
	return conn, nil
}

// read checks the live state of o inside tx.
func (o op) read(ctx context.Context, tx pgx.Tx) (state, error) {
	var st state
	switch o.typ {
	case opDeactivate:
		err := tx.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, o.role).Scan(&st.present)
		if errors.Is(err, pgx.ErrNoRows) {
			return state{}, fmt.Errorf("postgres: role %q no longer exists: %w", o.role, connectors.ErrTargetChanged)
		}
		return st, err
	case opRevokeRole:
		err := tx.QueryRow(ctx, `SELECT count(*) > 0, coalesce(bool_or(m.admin_option), false)
			FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
			WHERE g.rolname = $1 AND u.rolname = $2`, o.group, o.role).Scan(&st.present, &st.option)
		return st, err
	}
	var grantee uint32 // 0 is PUBLIC in an ACL
	if !o.public {
		err := tx.QueryRow(ctx, `SELECT oid FROM pg_roles WHERE rolname = $1`, o.role).Scan(&grantee)
		if errors.Is(err, pgx.ErrNoRows) {
			return state{}, fmt.Errorf("postgres: role %q no longer exists: %w", o.role, connectors.ErrTargetChanged)
		}
		if err != nil {
			return state{}, err
		}
	}
	if o.obj.kind != "db" {
		var cur string
		if err := tx.QueryRow(ctx, `SELECT current_database()`).Scan(&cur); err != nil {
			return state{}, err
		}
		if cur != o.obj.parts[0] {
			return state{}, fmt.Errorf("postgres: %s is in database %q but the actuator is connected to %q", o.objectSQL(), o.obj.parts[0], cur)
		}
	}
	var (
		q    string
		args []any
	)
	switch o.obj.kind {
	case "db":
		q = `SELECT count(*) > 0, coalesce(bool_or(a.is_grantable), false) FROM pg_database d,
			aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
			WHERE d.datname = $1 AND a.grantee = $2 AND a.privilege_type = $3`
		args = []any{o.obj.parts[0], grantee, o.priv}
	case "schema":
		q = `SELECT count(*) > 0, coalesce(bool_or(a.is_grantable), false) FROM pg_namespace n,
			aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
			WHERE n.nspname = $1 AND a.grantee = $2 AND a.privilege_type = $3`
		args = []any{o.obj.parts[1], grantee, o.priv}
	default:
		q = `SELECT count(*) > 0, coalesce(bool_or(a.is_grantable), false)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
			aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
			WHERE n.nspname = $1 AND c.relname = $2 AND a.grantee = $3 AND a.privilege_type = $4`
		args = []any{o.obj.parts[1], o.obj.parts[2], grantee, o.priv}
	}
	err := tx.QueryRow(ctx, q, args...).Scan(&st.present, &st.option)
	return st, err
}

// Execute re-reads the target in a transaction, refuses with
// connectors.ErrTargetChanged when it differs from the approval, runs the
// statement, and commits only if the change is visible afterwards.
func (a *Actuator) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return connectors.Step{}, err
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return connectors.Step{}, err
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return connectors.Step{}, fmt.Errorf("postgres: %s: begin: %w", o.sql(), err)
	}
	defer tx.Rollback(context.Background())

	if o.typ != opDeactivate && o.expectLogin != "" {
		var login bool
		err := tx.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, o.role).Scan(&login)
		if errors.Is(err, pgx.ErrNoRows) {
			return connectors.Step{}, fmt.Errorf("postgres: %s: role %q no longer exists: %w", o.sql(), o.role, connectors.ErrTargetChanged)
		}
		if err != nil {
			return connectors.Step{}, fmt.Errorf("postgres: %s: re-read: %w", o.sql(), err)
		}
		if strconv.FormatBool(login) != o.expectLogin {
			return connectors.Step{}, fmt.Errorf("postgres: %s: can_login is %t, approved %s: %w", o.sql(), login, o.expectLogin, connectors.ErrTargetChanged)
		}
	}
	before, err := o.read(ctx, tx)
	if err != nil {
		return connectors.Step{}, fmt.Errorf("postgres: %s: re-read: %w", o.sql(), err)
	}
	if !before.present {
		return connectors.Step{}, fmt.Errorf("postgres: %s: %s: %w", o.sql(), o.absentMsg(), connectors.ErrTargetChanged)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	if _, err := tx.Exec(ctx, o.sql()); err != nil {
		return connectors.Step{}, fmt.Errorf("postgres: %s: %w", o.sql(), err)
	}
	after, err := o.read(ctx, tx)
	if err != nil {
		return connectors.Step{}, fmt.Errorf("postgres: %s: check: %w", o.sql(), err)
	}
	if after.present {
		return connectors.Step{}, fmt.Errorf("postgres: %s had no effect: the actuator's role is neither the grantor nor a member of the owner (nothing was changed)", o.sql())
	}
	if err := tx.Commit(ctx); err != nil {
		return connectors.Step{}, fmt.Errorf("postgres: %s: commit: %w", o.sql(), err)
	}
	return connectors.Step{Call: o.sql(), Undo: o.undo(before.option)}, nil
}

func (o op) absentMsg() string {
	switch o.typ {
	case opDeactivate:
		return "the role can no longer log in"
	case opRevokeRole:
		return "the role is no longer a member"
	}
	return "the privilege is no longer granted"
}

// Rollback restores what a step removed: LOGIN, the privilege (with its
// grant option) or the membership (with its admin option). If the thing is
// already back, it does nothing, so a retried rollback is safe.
func (a *Actuator) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	o, err := a.resolve(act)
	if err != nil {
		return err
	}
	option := done.Undo[UndoGrantable] == "true" || done.Undo[UndoAdminOption] == "true"
	if want := o.undo(option); !maps.Equal(want, done.Undo) {
		return fmt.Errorf("postgres: rollback %s %q: step undo data %v does not belong to this action", act.Type, act.Target, done.Undo)
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: rollback %s: begin: %w", o.sql(), err)
	}
	defer tx.Rollback(context.Background())
	cur, err := o.read(ctx, tx)
	if err != nil {
		return fmt.Errorf("postgres: rollback %s: re-read: %w", o.sql(), err)
	}
	if cur.present {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stmt := o.undoSQL(option)
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("postgres: rollback: %s: %w", stmt, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: rollback: %s: commit: %w", stmt, err)
	}
	return nil
}
