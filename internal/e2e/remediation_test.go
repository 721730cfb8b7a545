package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/jackc/pgx/v5"

	"github.com/steward-oss/steward/approval"
	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/config"
	"github.com/steward-oss/steward/connectors"
	_ "github.com/steward-oss/steward/connectors/ldap"
	_ "github.com/steward-oss/steward/connectors/postgres"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/fakeclock"
	"github.com/steward-oss/steward/internal/ldaptest"
	"github.com/steward-oss/steward/internal/pgtest"
	"github.com/steward-oss/steward/slackbot"
)

const (
	readerDN   = "cn=steward-reader,ou=system,dc=example,dc=com"
	actuatorDN = "cn=steward-actuator,ou=system,dc=example,dc=com"
	etlRole    = "e2e_etl_admin"
	svcETLDN   = "CN=svc-etl,OU=Service Accounts,DC=example,DC=com"
	pgTarget   = "postgres:e2e:role/" + etlRole
	ldapTarget = "ldap:example.com:cn=svc-etl,ou=service accounts,dc=example,dc=com"
	question   = "admin service accounts in postgres or ldap"
)

// sources are the two real servers with their fixtures, the graph read
// from them by the connectors, and the actuator configuration.
type sources struct {
	super     *pgx.Conn
	ldap      *ldaptest.Server
	index     *graph.Index
	sgs       []*graph.Subgraph // what the connectors read
	actuators []config.Actuator
	pg        *pgtest.Server
}

func startSources(t *testing.T) *sources {
	t.Helper()
	ctx := context.Background()
	pg := pgtest.Start(t)
	superDSN := pg.CreateDB(t, "steward_e2e")
	db := dbName(t, superDSN)
	super, err := pgx.Connect(ctx, superDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { super.Close(context.Background()) })
	// Roles are cluster-wide: drop them when done so other tests of the
	// shared server never see them.
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pg.DSN("postgres"))
		if err != nil {
			t.Errorf("drop roles: %v", err)
			return
		}
		defer c.Close(context.Background())
		for _, q := range []string{
			"REVOKE CONNECT ON DATABASE " + pgx.Identifier{db}.Sanitize() + " FROM e2e_reader",
			"DROP ROLE IF EXISTS e2e_reader",
			"DROP ROLE IF EXISTS " + etlRole,
		} {
			if _, err := c.Exec(context.Background(), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	for _, q := range []string{
		"CREATE ROLE " + etlRole + " SUPERUSER LOGIN",
		"CREATE ROLE e2e_reader LOGIN PASSWORD 'fake-e2e-reader-password'",
		"GRANT pg_read_all_stats TO e2e_reader",
		"GRANT CONNECT ON DATABASE " + pgx.Identifier{db}.Sanitize() + " TO e2e_reader",
	} {
		if _, err := super.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, _ := url.Parse(superDSN)
	u.User = url.UserPassword("e2e_reader", "fake-e2e-reader-password")
	readerDSN := u.String()

	ld := ldaptest.Start(t, ldaptest.Config{Access: []string{
		`access to attrs=userAccountControl by dn.exact="` + actuatorDN + `" write by users read by * none`,
	}})
	seed, err := os.ReadFile("testdata/directory.ldif")
	if err != nil {
		t.Fatal(err)
	}
	ld.Seed(t, string(seed))
	ld.Seed(t, `dn: ou=system,dc=example,dc=com
objectClass: organizationalUnit
ou: system

dn: `+readerDN+`
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: steward-reader
userPassword: fake-e2e-ldap-reader

dn: `+actuatorDN+`
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: steward-actuator
userPassword: fake-e2e-ldap-actuator
`)
	dir := t.TempDir()
	readerPW := writeFile(t, dir, "ldap-reader.pw", "fake-e2e-ldap-reader\n")
	actuatorPW := writeFile(t, dir, "ldap-actuator.pw", "fake-e2e-ldap-actuator\n")
	// The actuator connects as the bootstrap superuser: setting NOLOGIN
	// on a superuser role takes a superuser.
	actuatorDSN := writeFile(t, dir, "pg-actuator.dsn", superDSN+"\n")

	env := connectors.Env{Logger: quietLogger()}
	var sgs []*graph.Subgraph
	for _, c := range []struct {
		name string
		opts connectors.Options
	}{
		// The bootstrap superuser is the DBAs' own login, a person's.
		{"postgres", connectors.Options{"dsn": readerDSN, "name": "e2e", "person-roles": "postgres"}},
		{"ldap", connectors.Options{"url": ld.URL, "bind-dn": readerDN, "password-file": readerPW, "base-dn": "dc=example,dc=com"}},
	} {
		r, err := connectors.New(c.name, c.opts, env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Read(ctx)
		if err != nil {
			t.Fatalf("read %s: %v", c.name, err)
		}
		sgs = append(sgs, got...)
	}
	return &sources{
		super: super, ldap: ld, index: graph.Build(sgs), sgs: sgs, pg: pg,
		actuators: []config.Actuator{
			{Source: "postgres:e2e", Type: "postgres", Options: map[string]string{"dsn-file": actuatorDSN}},
			{Source: "ldap:example.com", Type: "ldap", Options: map[string]string{"url": ld.URL, "base-dn": "dc=example,dc=com",
				"bind-dn": actuatorDN, "password-file": actuatorPW}},
		},
	}
}

// canLogin reads pg_roles.rolcanlogin of the target role.
func (s *sources) canLogin(t *testing.T) bool {
	t.Helper()
	var v bool
	if err := s.super.QueryRow(context.Background(), "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", etlRole).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// uac reads the live userAccountControl of svc-etl.
func (s *sources) uac(t *testing.T) string {
	t.Helper()
	res, err := s.ldap.Conn(t).Search(goldap.NewSearchRequest(svcETLDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"userAccountControl"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read svc-etl: %v", err)
	}
	return res.Entries[0].GetAttributeValue("userAccountControl")
}

// live is the state of both targets: "login=true uac=512".
func (s *sources) live(t *testing.T) string {
	t.Helper()
	login := "false"
	if s.canLogin(t) {
		login = "true"
	}
	return "login=" + login + " uac=" + s.uac(t)
}

const (
	liveActive   = "login=true uac=512"
	liveDisabled = "login=false uac=514"
)

func TestRemediationEndToEnd(t *testing.T) {
	src := startSources(t)
	clock := fakeclock.New(time.Now().UTC())
	st := newStack(t, stackOptions{index: src.index, actuators: src.actuators, clock: clock})
	ctx := context.Background()
	const thread = "1700000100.000001"

	// The question, answered in its thread from the live servers' data.
	st.mention(alice, question, thread, "")
	answer := st.lastPost(thread)
	for _, want := range []string{etlRole, "svc-etl", slackbot.ActionShowPlan} {
		if !strings.Contains(answer, want) {
			t.Fatalf("answer lacks %q:\n%s", want, answer)
		}
	}
	if strings.Contains(answer, "svc-web") || strings.Contains(answer, "e2e_reader") {
		t.Fatalf("answer lists identities that are not admins:\n%s", answer)
	}

	// "remediate" in the thread opens the proposal for those targets.
	st.mention(alice, "remediate", "1700000100.000002", thread)
	ps, err := st.svc.List(ctx, approval.Filter{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("proposals after remediate: %v %v\nposts: %v", ps, err, st.slack.Texts("chat.postMessage"))
	}
	p := ps[0]
	targets := p.Targets()
	slices.Sort(targets)
	if !slices.Equal(targets, []string{ldapTarget, pgTarget}) || p.Requester != "alice@example.com" {
		t.Fatalf("proposal targets %v by %s", targets, p.Requester)
	}
	msg := st.lastPost(thread)
	for _, want := range []string{slackbot.ActionApprove, slackbot.ActionReject, slackbot.ActionDetails, `"value":"` + p.ID + `"`} {
		if !strings.Contains(msg, want) {
			t.Fatalf("proposal message lacks %q:\n%s", want, msg)
		}
	}
	if got := src.live(t); got != liveActive {
		t.Fatalf("before approval: %s", got)
	}

	// Clicks that must change nothing (issue part 2).
	refusals := []struct {
		name    string
		req     func() *http.Request
		code    int
		user    string // who gets an ephemeral refusal
		message string
		audit   string // outcome of the refusal record
	}{
		{name: "non-approver", req: func() *http.Request { return st.clickRequest(eve, slackbot.ActionApprove, p.ID, thread) },
			code: 200, user: eve, message: "not an approver", audit: "refused: " + approval.ErrNotApprover.Error()},
		{name: "requester", req: func() *http.Request { return st.clickRequest(alice, slackbot.ActionApprove, p.ID, thread) },
			code: 200, user: alice, message: "You requested this proposal", audit: "refused: " + approval.ErrSelfApproval.Error()},
		{name: "unsigned", code: 401, req: func() *http.Request {
			r := st.clickRequest(carol, slackbot.ActionApprove, p.ID, thread)
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}},
		{name: "signed with another secret", code: 401, req: func() *http.Request {
			r := st.clickRequest(carol, slackbot.ActionApprove, p.ID, thread)
			r.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("ab", 32))
			return r
		}},
	}
	for _, tt := range refusals {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			nAudit := countRecords(t, st.auditLog)
			if code := st.send(tt.req()); code != tt.code {
				t.Fatalf("HTTP %d, want %d", code, tt.code)
			}
			if got := st.proposal(p.ID); got.State != approval.StateProposed || len(got.Decisions) != 0 {
				t.Fatalf("proposal changed: %s, %d decisions", got.State, len(got.Decisions))
			}
			if got := src.live(t); got != liveActive {
				t.Fatalf("servers changed: %s", got)
			}
			recs := records(t, st.auditLog)
			if tt.audit == "" {
				if len(recs) != nAudit {
					t.Fatalf("an unsigned request was audited as a decision: %+v", recs[nAudit:])
				}
				return
			}
			if !strings.Contains(st.lastEphemeral(tt.user), tt.message) {
				t.Fatalf("ephemeral to %s = %q", tt.user, st.lastEphemeral(tt.user))
			}
			if len(recs) != nAudit+1 || recs[nAudit].Outcome != tt.audit || recs[nAudit].Where != audit.WhereSlack {
				t.Fatalf("audit after refusal: %+v", recs[nAudit:])
			}
		})
	}

	// The approver's signed click: approval, execution on the real
	// servers, the result in the thread.
	approve := st.clickRequest(carol, slackbot.ActionApprove, p.ID, thread)
	replayHeader := approve.Header.Clone()
	replayBody := mustBody(t, approve)
	if code := st.send(approve); code != http.StatusOK {
		t.Fatalf("approve: HTTP %d", code)
	}
	done := st.proposal(p.ID)
	if done.State != approval.StateDone {
		t.Fatalf("after approval: %s (%s)", done.State, done.Reason)
	}
	if got := src.live(t); got != liveDisabled {
		t.Fatalf("after execution: %s, want %s", got, liveDisabled)
	}
	result := st.lastPost(thread)
	for _, want := range []string{"Execution of " + p.ID, "done", `ALTER ROLE \"` + etlRole + `\" NOLOGIN`, "userAccountControl: 514"} {
		if !strings.Contains(result, want) {
			t.Fatalf("result post lacks %q:\n%s", want, result)
		}
	}

	t.Run("replayed click", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, st.url+slackbot.PathInteractivity, strings.NewReader(string(replayBody)))
		r.Header = replayHeader
		if code := st.send(r); code != http.StatusUnauthorized {
			t.Fatalf("replay: HTTP %d, want 401", code)
		}
		if got := st.proposal(p.ID); len(got.Journal) != len(done.Journal) || len(got.Decisions) != 1 {
			t.Fatalf("replay changed the proposal: %d journal, %d decisions", len(got.Journal), len(got.Decisions))
		}
	})
	t.Run("second click by the same approver", func(t *testing.T) {
		if code := st.send(st.clickRequest(carol, slackbot.ActionApprove, p.ID, thread)); code != http.StatusOK {
			t.Fatal(code)
		}
		if !strings.Contains(st.lastEphemeral(carol), "already been decided") {
			t.Fatalf("ephemeral = %q", st.lastEphemeral(carol))
		}
		if got := st.proposal(p.ID); len(got.Journal) != len(done.Journal) || len(got.Decisions) != 1 || got.State != approval.StateDone {
			t.Fatalf("second click changed the proposal")
		}
		if got := src.live(t); got != liveDisabled {
			t.Fatalf("servers changed: %s", got)
		}
	})
	t.Run("rollback by a non-approver", func(t *testing.T) {
		st.mention(eve, "rollback", "1700000100.000050", thread)
		if got := st.proposal(p.ID); got.State != approval.StateDone {
			t.Fatalf("state %s", got.State)
		}
		if got := src.live(t); got != liveDisabled {
			t.Fatalf("servers changed: %s", got)
		}
	})

	// Rollback by the approver restores both.
	st.mention(carol, "rollback", "1700000100.000060", thread)
	if got := st.proposal(p.ID); got.State != approval.StateRolledBack {
		t.Fatalf("after rollback: %s (%s)", got.State, got.Reason)
	}
	if got := src.live(t); got != liveActive {
		t.Fatalf("after rollback: %s, want %s", got, liveActive)
	}
	if r := st.lastPost(thread); !strings.Contains(r, "Rollback of "+p.ID) || !strings.Contains(r, "rolled_back") {
		t.Fatalf("rollback post:\n%s", r)
	}

	t.Run("expired proposal", func(t *testing.T) {
		const thread2 = "1700000200.000001"
		st.mention(alice, question, thread2, "")
		st.mention(alice, "remediate", "1700000200.000002", thread2)
		ps, _ := st.svc.List(ctx, approval.Filter{States: []approval.State{approval.StateProposed}})
		if len(ps) != 1 {
			t.Fatalf("%d open proposals", len(ps))
		}
		clock.Advance(73 * time.Hour)
		if code := st.send(st.clickRequest(carol, slackbot.ActionApprove, ps[0].ID, thread2)); code != http.StatusOK {
			t.Fatal(code)
		}
		if !strings.Contains(st.lastEphemeral(carol), "window has closed") {
			t.Fatalf("ephemeral = %q", st.lastEphemeral(carol))
		}
		if got := st.proposal(ps[0].ID); got.State != approval.StateProposed || len(got.Decisions) != 0 {
			t.Fatalf("expired proposal changed: %s", got.State)
		}
		if got := src.live(t); got != liveActive {
			t.Fatalf("servers changed: %s", got)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		st.close()
		if _, err := audit.VerifyFile(st.auditLog); err != nil {
			t.Fatalf("verify: %v", err)
		}
		recs := records(t, st.auditLog)
		have := map[string]bool{}
		for _, r := range recs {
			have[r.Where+" "+r.Action+" "+r.Outcome] = true
		}
		for _, want := range []string{"slack question answered (2 rows of 2)", "slack proposal proposed", "slack approval approved",
			"slack execution done", "slack rollback rolled_back", "slack approval refused: " + approval.ErrNotApprover.Error(),
			"slack approval refused: " + approval.ErrExpired.Error(), "slack rollback refused: " + approval.ErrNotApprover.Error()} {
			if !have[want] {
				t.Errorf("no audit record %q", want)
			}
		}
		// Alter one record (the approval's outcome): verification fails
		// at that line.
		data, err := os.ReadFile(st.auditLog)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		at := -1
		for i, l := range lines {
			if strings.Contains(l, `"action":"approval","target"`) && strings.Contains(l, `"outcome":"approved"`) {
				at = i
				lines[i] = strings.Replace(l, `"outcome":"approved"`, `"outcome":"rejected"`, 1)
				break
			}
		}
		if at < 0 {
			t.Fatal("no approval record to alter")
		}
		tampered := filepath.Join(t.TempDir(), "tampered.log")
		if err := os.WriteFile(tampered, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = audit.VerifyFile(tampered)
		var ve *audit.VerifyError
		if !errors.As(err, &ve) || !errors.Is(err, audit.ErrBrokenChain) || ve.Line != at+1 || ve.Reason != audit.ReasonEdited {
			t.Fatalf("verify tampered = %v, want an edit at line %d", err, at+1)
		}
	})
}
