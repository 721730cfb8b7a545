package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types the LDAP actuator performs.
const (
	// ActionDeactivate sets ACCOUNTDISABLE in the target account's
	// userAccountControl.
	ActionDeactivate = action.DeactivateIdentity
	// ActionRemoveMembership deletes the target from the member attribute
	// of the group named by ParamGroup.
	ActionRemoveMembership = action.RemoveMembership
)

// Action parameters: the state the approver saw, which Execute re-checks.
const (
	// ParamUserAccountControl is the userAccountControl value approved
	// (the node's attrs.user_account_control): required for
	// ActionDeactivate, checked when present for any action.
	// ParamUserAccountControlAD, the attribute's LDAP name, is accepted too.
	ParamUserAccountControl   = AttrUserAccountControl
	ParamUserAccountControlAD = "userAccountControl"
	// ParamStatus, when present, is the approved graph status of the
	// target ("active" or "disabled"), checked against ACCOUNTDISABLE.
	ParamStatus = "status"
	// ParamGroup is the node id of the group for ActionRemoveMembership;
	// the approved state is that the target is a direct member of it.
	ParamGroup = "group"
)

// Undo keys of a Step.
const (
	UndoDN        = "dn"
	UndoUACBefore = "user_account_control_before"
	UndoUACAfter  = "user_account_control_after"
	UndoGroupDN   = "group_dn"
	UndoMemberDN  = "member_dn"
)

// ActuatorConfig holds the actuator's own credentials: a DN allowed to
// write userAccountControl and member, never the reader's.
type ActuatorConfig struct {
	URL          string
	BaseDN       string // names the source whose node ids the actuator accepts
	BindDN       string
	PasswordFile string
	TLS          *tls.Config
	StartTLS     bool
	ReadFile     func(string) ([]byte, error)
}

// Actuator disables accounts and removes group memberships. Each write is
// an LDAP modify that deletes the exact approved value and adds the new
// one in one operation, so a change that lands between the re-read and
// the write makes the server reject the modify instead of overwriting it.
type Actuator struct {
	cfg    ActuatorConfig
	source string
}

var _ connectors.Actuator = (*Actuator)(nil)

// NewActuator checks cfg and returns an actuator.
func NewActuator(cfg ActuatorConfig) (*Actuator, error) {
	if cfg.URL == "" || cfg.BaseDN == "" || cfg.BindDN == "" || cfg.PasswordFile == "" {
		return nil, errors.New("ldap: the actuator needs url, base-dn, actuator-bind-dn and actuator-password-file")
	}
	if err := checkURL(cfg.URL); err != nil {
		return nil, err
	}
	src, err := SourceName(cfg.BaseDN)
	if err != nil {
		return nil, err
	}
	if cfg.ReadFile == nil {
		cfg.ReadFile = os.ReadFile
	}
	return &Actuator{cfg: cfg, source: src}, nil
}

// op is a resolved action: what to change on which entry.
type op struct {
	typ     action.Kind
	dn      string // the target account (both types)
	groupDN string // remove_membership
	before  uint32 // deactivate: approved userAccountControl
	after   uint32
	// expectUAC and expectStatus are the approved state of the target
	// entry, checked before any write when set.
	expectUAC    *uint32
	expectStatus string
}

func (o op) call() string {
	var b strings.Builder
	switch o.typ {
	case ActionDeactivate:
		fmt.Fprintf(&b, "dn: %s\nchangetype: modify\ndelete: userAccountControl\nuserAccountControl: %d\n-\nadd: userAccountControl\nuserAccountControl: %d\n-\n",
			o.dn, o.before, o.after)
	case ActionRemoveMembership:
		fmt.Fprintf(&b, "dn: %s\nchangetype: modify\ndelete: member\nmember: %s\n-\n", o.groupDN, o.dn)
	}
	return b.String()
}

func (o op) undo() map[string]string {
	switch o.typ {
	case ActionDeactivate:
		return map[string]string{UndoDN: o.dn, UndoUACBefore: strconv.FormatUint(uint64(o.before), 10),
			UndoUACAfter: strconv.FormatUint(uint64(o.after), 10)}
	default:
		return map[string]string{UndoGroupDN: o.groupDN, UndoMemberDN: o.dn}
	}
}

// dnOfID returns the DN of a node id of this actuator's source.
func (a *Actuator) dnOfID(id string) (string, error) {
	prefix := a.source + ":"
	if !strings.HasPrefix(id, prefix) {
		return "", fmt.Errorf("ldap: node %q is not in source %q", id, a.source)
	}
	dn, err := normDN(strings.TrimPrefix(id, prefix))
	if err != nil {
		return "", fmt.Errorf("ldap: node %q: %w", id, err)
	}
	return dn, nil
}

func (a *Actuator) resolve(act connectors.Action) (op, error) {
	dn, err := a.dnOfID(act.Target)
	if err != nil {
		return op{}, err
	}
	o := op{typ: act.Type, dn: dn}
	if err := o.expectations(act); err != nil {
		return op{}, err
	}
	switch act.Type {
	case ActionDeactivate:
		if o.expectUAC == nil {
			return op{}, fmt.Errorf("ldap: %s %q: param %q (the approved userAccountControl) is required", act.Type, act.Target, ParamUserAccountControl)
		}
		if o.expectStatus == graph.StatusDisabled {
			return op{}, fmt.Errorf("ldap: %s %q: the approved status is already disabled", act.Type, act.Target)
		}
		o.before = *o.expectUAC
		if o.before&uacAccountDisable != 0 {
			return op{}, fmt.Errorf("ldap: %s %q: the approved userAccountControl %d is already disabled", act.Type, act.Target, o.before)
		}
		o.after = o.before | uacAccountDisable
	case ActionRemoveMembership:
		g, ok := act.Params[ParamGroup]
		if !ok {
			return op{}, fmt.Errorf("ldap: %s %q: param %q (the group node id) is required", act.Type, act.Target, ParamGroup)
		}
		if o.groupDN, err = a.dnOfID(g); err != nil {
			return op{}, err
		}
	default:
		return op{}, fmt.Errorf("ldap: action %q: %w", act.Type, connectors.ErrUnsupported)
	}
	return o, nil
}

// expectations reads the approved state of the target from Params.
func (o *op) expectations(act connectors.Action) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("ldap: %s %q: %s", act.Type, act.Target, fmt.Sprintf(format, args...))
	}
	v1, ok1 := act.Params[ParamUserAccountControl]
	v2, ok2 := act.Params[ParamUserAccountControlAD]
	if ok1 && ok2 && v1 != v2 {
		return fail("params %q=%q and %q=%q disagree", ParamUserAccountControl, v1, ParamUserAccountControlAD, v2)
	}
	if ok2 {
		v1, ok1 = v2, true
	}
	if ok1 {
		n, err := strconv.ParseUint(v1, 10, 32)
		if err != nil {
			return fail("param %q: %v", ParamUserAccountControl, err)
		}
		u := uint32(n)
		o.expectUAC = &u
	}
	switch st := act.Params[ParamStatus]; st {
	case "", graph.StatusActive, graph.StatusDisabled:
		o.expectStatus = st
	default:
		return fail("param %q: want %q or %q, got %q", ParamStatus, graph.StatusActive, graph.StatusDisabled, st)
	}
	if o.expectUAC != nil && o.expectStatus != "" && (*o.expectUAC&uacAccountDisable != 0) != (o.expectStatus == graph.StatusDisabled) {
		return fail("params %q=%d and %q=%q contradict each other", ParamUserAccountControl, *o.expectUAC, ParamStatus, o.expectStatus)
	}
	return nil
}

// checkExpected compares the live entry with the approved state.
func (o op) checkExpected(s *session) error {
	if o.expectUAC == nil && o.expectStatus == "" {
		return nil
	}
	cur, err := readUAC(s, o.dn)
	if err != nil {
		return err
	}
	if o.expectUAC != nil && cur != *o.expectUAC {
		return fmt.Errorf("ldap: %s %q: userAccountControl is %d, approved %d: %w",
			o.typ, o.dn, cur, *o.expectUAC, connectors.ErrTargetChanged)
	}
	status := graph.StatusActive
	if cur&uacAccountDisable != 0 {
		status = graph.StatusDisabled
	}
	if o.expectStatus != "" && status != o.expectStatus {
		return fmt.Errorf("ldap: %s %q: account is %s, approved %s: %w", o.typ, o.dn, status, o.expectStatus, connectors.ErrTargetChanged)
	}
	return nil
}

// Plan returns the LDIF change record Execute would send. It does not
// contact the server.
func (a *Actuator) Plan(ctx context.Context, act connectors.Action) ([]connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return nil, err
	}
	return []connectors.Step{{Call: o.call(), Undo: o.undo()}}, nil
}

// Execute re-reads the target, refuses with connectors.ErrTargetChanged
// when it no longer matches the approved state, and applies the change.
func (a *Actuator) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return connectors.Step{}, err
	}
	s, err := bind(ctx, endpoint{a.cfg.URL, a.cfg.TLS, a.cfg.StartTLS}, a.cfg.BindDN, a.cfg.PasswordFile, a.cfg.ReadFile)
	if err != nil {
		return connectors.Step{}, err
	}
	defer s.Close()

	if err := o.checkExpected(s); err != nil {
		return connectors.Step{}, err
	}
	req := goldap.NewModifyRequest("", nil)
	switch o.typ {
	case ActionDeactivate:
		req.DN = o.dn
		req.Delete("userAccountControl", []string{strconv.FormatUint(uint64(o.before), 10)})
		req.Add("userAccountControl", []string{strconv.FormatUint(uint64(o.after), 10)})
	case ActionRemoveMembership:
		member, err := isMember(s, o.groupDN, o.dn)
		if err != nil {
			return connectors.Step{}, err
		}
		if !member {
			return connectors.Step{}, fmt.Errorf("ldap: remove %q from %q: no longer a member: %w",
				o.dn, o.groupDN, connectors.ErrTargetChanged)
		}
		req.DN = o.groupDN
		req.Delete("member", []string{o.dn})
	}
	// the last point at which cancelling leaves nothing half done
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, fmt.Errorf("ldap: %s %q: %w", o.typ, o.dn, err)
	}
	if err := s.Modify(req); err != nil {
		if goldap.IsErrorAnyOf(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultNoSuchObject) {
			return connectors.Step{}, fmt.Errorf("ldap: %s %q: changed during the write: %v: %w",
				o.typ, o.dn, err, connectors.ErrTargetChanged)
		}
		return connectors.Step{}, fmt.Errorf("ldap: %s %q: modify %s: %w", o.typ, o.dn, req.DN, err)
	}
	return connectors.Step{Call: o.call(), Undo: o.undo()}, nil
}

// Rollback undoes a step Execute returned: it re-enables the account (if
// it is still exactly as Execute left it) or re-adds the member. Undoing a
// step already undone is a no-op, so a retried rollback is safe.
func (a *Actuator) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	o, err := a.resolve(act)
	if err != nil {
		return err
	}
	if want := o.undo(); !maps.Equal(want, done.Undo) {
		return fmt.Errorf("ldap: rollback %s %q: step undo data %v does not belong to this action", act.Type, act.Target, done.Undo)
	}
	s, err := bind(ctx, endpoint{a.cfg.URL, a.cfg.TLS, a.cfg.StartTLS}, a.cfg.BindDN, a.cfg.PasswordFile, a.cfg.ReadFile)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := ctx.Err(); err != nil {
		return err
	}
	switch o.typ {
	case ActionDeactivate:
		cur, err := readUAC(s, o.dn)
		if err != nil {
			return err
		}
		if cur == o.before {
			return nil
		}
		if cur != o.after {
			return fmt.Errorf("ldap: rollback disable %q: userAccountControl is %d, left at %d: %w",
				o.dn, cur, o.after, connectors.ErrTargetChanged)
		}
		req := goldap.NewModifyRequest(o.dn, nil)
		req.Delete("userAccountControl", []string{strconv.FormatUint(uint64(o.after), 10)})
		req.Add("userAccountControl", []string{strconv.FormatUint(uint64(o.before), 10)})
		if err := s.Modify(req); err != nil {
			if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchAttribute) {
				return fmt.Errorf("ldap: rollback disable %q: %v: %w", o.dn, err, connectors.ErrTargetChanged)
			}
			return fmt.Errorf("ldap: rollback disable %q: %w", o.dn, err)
		}
	case ActionRemoveMembership:
		req := goldap.NewModifyRequest(o.groupDN, nil)
		req.Add("member", []string{o.dn})
		if err := s.Modify(req); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultAttributeOrValueExists) {
			return fmt.Errorf("ldap: rollback remove %q from %q: %w", o.dn, o.groupDN, err)
		}
	}
	return nil
}

// readUAC reads the live userAccountControl of dn. A missing entry is a
// changed target: it was deleted or renamed since approval.
func readUAC(s *session, dn string) (uint32, error) {
	res, err := s.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"userAccountControl"}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return 0, fmt.Errorf("ldap: %q no longer exists: %w", dn, connectors.ErrTargetChanged)
	}
	if err != nil {
		return 0, fmt.Errorf("ldap: read %q: %w", dn, err)
	}
	if len(res.Entries) != 1 {
		return 0, fmt.Errorf("ldap: read %q: %d entries: %w", dn, len(res.Entries), connectors.ErrTargetChanged)
	}
	v := res.Entries[0].GetAttributeValue("userAccountControl")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < -1<<31 || n > uacMax {
		return 0, fmt.Errorf("ldap: read %q: userAccountControl %q is not a 32-bit integer", dn, v)
	}
	return uint32(n), nil
}

// isMember asks the server whether groupDN lists memberDN, matching with
// the server's DN equality rule rather than reading the (possibly huge)
// member attribute.
func isMember(s *session, groupDN, memberDN string) (bool, error) {
	res, err := s.Search(goldap.NewSearchRequest(groupDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
		"(member="+goldap.EscapeFilter(memberDN)+")", []string{"1.1"}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ldap: read membership of %q: %w", groupDN, err)
	}
	return len(res.Entries) == 1, nil
}
