package acceptance

import (
	"slices"
	"testing"
	"time"

	"github.com/steward-oss/steward/cli"
	"github.com/steward-oss/steward/graph"
)

// question is one analyst question and its hand-worked answer.
type question struct {
	name string
	// ask is the question as an analyst types it.
	ask string
	// plans, when set, are explicit plans (testdata/plans) that answer the
	// question because the offline planner cannot map it correctly yet;
	// their rows are united. Each such entry is a planner gap listed in
	// the report, with a comment saying what the planner gets wrong.
	plans []string
	// want are the ids of the rows, worked out by reading the fixtures.
	want []string
	// check inspects each row and its evidence.
	check func(t *testing.T, a cli.Answer, r int)
}

func (q question) run(t *testing.T, e *env, x exported) {
	t.Helper()
	var answers []cli.Answer
	if len(q.plans) == 0 {
		a, ok := e.ask(q.ask)
		if !ok {
			t.Fatalf("the planner refused %q", q.ask)
		}
		answers = append(answers, a)
	} else {
		for _, p := range q.plans {
			answers = append(answers, e.query(p))
		}
		// Say when the planner has caught up, so the plan can go.
		if a, ok := e.ask(q.ask); ok && slices.Equal(ids(t, a), sorted(q.want)) {
			t.Logf("the planner now answers %q correctly: ask can replace %v", q.ask, q.plans)
		}
	}
	var got []string
	for _, a := range answers {
		got = append(got, ids(t, a)...)
		checkEvidenceExported(t, a, x)
		for r := range a.Rows {
			if q.check != nil {
				q.check(t, a, r)
			}
		}
	}
	sameSet(t, q.ask, got, q.want)
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return s
}

func refTime(t *testing.T) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return ts
}

// TestCloudQuestions asks the cloud connector issue's questions of one
// graph holding every fixture source.
func TestCloudQuestions(t *testing.T) {
	e := newEnv(t)
	loadWorld(e)
	x := parseExport(t, e.export())
	ref := refTime(t)
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

	questions := []question{{
		name: "aws admins",
		ask:  "which AWS roles and users are admins",
		// Needs graph 1e15840: before it, graph.Index ignored permissions
		// boundaries and also answered user/bounded-admin and
		// role/app/web-server (AdministratorAccess under the s3-only
		// boundary: effectively write).
		// alice: group admins -> AdministratorAccess, no boundary. etl:
		// NotAction iam:*,organizations:* is not everything. deploy-bot,
		// partner-audit, github-deploy, the service-linked role: narrower.
		want: []string{"aws:111122223333:user/people/alice"},
		check: func(t *testing.T, a cli.Answer, r int) {
			reach := grantPath(t, a, r, graph.PrivAdmin)
			if !reach["aws:111122223333:group/admins"] {
				t.Errorf("row %s: admin evidence does not pass through group admins", cell(t, a, r, "id"))
			}
		},
	}, {
		name: "access keys not rotated in 90 days",
		ask:  "access keys not rotated in 90 days",
		// The planner counts live keys only (status active): deploy-bot's
		// key 2 is inactive in the credential report, and CIS 1.14 counts
		// active keys only.
		// Credential report: deploy-bot key 1 rotated 2024-02-01, etl key 1
		// 2018-02-02, legacy-sync key 1 2016-04-04, all active.
		want: []string{
			"aws:111122223333:access-key/deploy-bot/slot-1",
			"aws:111122223333:access-key/etl/slot-1",
			"aws:111122223333:access-key/legacy-sync/slot-1",
		},
		check: func(t *testing.T, a cli.Answer, r int) {
			if rot := parseTime(t, cell(t, a, r, "rotated_at")); ref.Sub(rot) < days(90) {
				t.Errorf("row %s rotated %s, within 90 days", cell(t, a, r, "id"), rot)
			}
			if s := cell(t, a, r, "status"); s != graph.StatusActive {
				t.Errorf("row %s: status %q", cell(t, a, r, "id"), s)
			}
		},
	}, {
		name: "who can assume partner-audit",
		ask:  "who can assume role partner-audit",
		// Trust policy: 444455556666's root (with an ExternalId condition),
		// deploy-bot and this account's root (every principal IAM lets).
		want: []string{"aws:111122223333", "aws:111122223333:user/deploy-bot", "aws:444455556666"},
		check: func(t *testing.T, a cli.Answer, r int) {
			id := cell(t, a, r, "id")
			last := a.Evidence[r][len(a.Evidence[r])-1]
			if a.Evidence[r][0].From != id || last.Kind != graph.EdgeCanAssume || last.To != "aws:111122223333:role/partner-audit" {
				t.Errorf("row %s: evidence is not a trust path to partner-audit:%s", id, evString(a.Evidence[r]))
			}
			if cond, _ := last.Props["conditional"].(bool); cond != (id == "aws:444455556666") {
				t.Errorf("row %s: can_assume conditional=%v; only the ExternalId statement has a condition", id, cond)
			}
		},
	}, {
		name: "k8s service accounts reading secrets cluster-wide",
		ask:  "which Kubernetes service accounts can read secrets cluster-wide",
		// The planner keeps subtype k8s_service_account, so
		// user/system:kube-controller-manager (an x509 control-plane user
		// the k8s connector models as a service_account, component=true)
		// is not a row.
		// ClusterRoleBindings to service accounts whose ClusterRole reads
		// secrets or everything: ci/runner (secret-reader), ci/scanner
		// (wildcard-reader), kube-system/ops-bot (cluster-admin), and from
		// the bootstrap policy expand-controller and persistent-volume-binder
		// (get secrets), generic-garbage-collector, namespace-controller
		// and resourcequota-controller (*/*). Not: payments/* (RoleBindings:
		// one namespace), bootstrap-signer and token-cleaner (Roles in
		// kube-system), system:serviceaccounts (view has no secrets),
		// horizontal-pod-autoscaler (custom.metrics.k8s.io/* only).
		want: []string{
			"k8s:prod:sa/ci/runner",
			"k8s:prod:sa/ci/scanner",
			"k8s:prod:sa/kube-system/expand-controller",
			"k8s:prod:sa/kube-system/generic-garbage-collector",
			"k8s:prod:sa/kube-system/namespace-controller",
			"k8s:prod:sa/kube-system/ops-bot",
			"k8s:prod:sa/kube-system/persistent-volume-binder",
			"k8s:prod:sa/kube-system/resourcequota-controller",
		},
		check: func(t *testing.T, a cli.Answer, r int) {
			grantPath(t, a, r, graph.PrivRead)
			g := a.Evidence[r][len(a.Evidence[r])-1]
			res, _ := g.Props["resource"].(string)
			if g.Kind != graph.EdgeGrants || g.To != "k8s:prod:cluster" || (res != "secrets" && res != "*") {
				t.Errorf("row %s: last evidence edge is not a cluster-wide grant on secrets: %v", cell(t, a, r, "id"), g)
			}
			var binding bool
			for _, e := range a.Evidence[r] {
				if attrs, _ := e.Props["attrs"].(map[string]any); e.Kind == graph.EdgeAttachedTo && attrs["via"] != nil {
					v, _ := attrs["via"].(string)
					binding = binding || len(v) > len("ClusterRoleBinding/") && v[:len("ClusterRoleBinding/")] == "ClusterRoleBinding/"
				}
			}
			if !binding {
				t.Errorf("row %s: no ClusterRoleBinding in evidence:%s", cell(t, a, r, "id"), evString(a.Evidence[r]))
			}
		},
	}, {
		name: "gcp user-managed keys older than 90 days",
		ask:  "GCP service accounts with user-managed keys older than 90 days",
		// "user-managed" is attrs.key_type USER_MANAGED: key 1 is a
		// SYSTEM_MANAGED key Google holds and rotates. Rows are the keys
		// (their ids name the account): a plan cannot select accounts by a
		// property of their keys.
		// test-cutodian-scc: key 2 and key 2222 USER_MANAGED from
		// 2021-03-31; key 1 SYSTEM_MANAGED; my-sa-42dc41453's key created
		// 2026-11-01 is 23 days old.
		want: []string{
			"gcp:cloud-custodian:serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com/keys/2",
			"gcp:cloud-custodian:serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com/keys/2222",
		},
		check: func(t *testing.T, a cli.Answer, r int) {
			if c := parseTime(t, cell(t, a, r, "created_at")); ref.Sub(c) < days(90) {
				t.Errorf("row %s created %s, within 90 days", cell(t, a, r, "id"), c)
			}
			// The key reads what its account's securityReviewer binding allows.
			grantPath(t, a, r, graph.PrivRead)
		},
	}, {
		name: "entra secrets expiring in 30 days",
		ask:  "Entra apps with secrets expiring in 30 days",
		// billing-sync "prod secret" ends 2026-12-10, ci-deployer "deploy
		// secret" 2026-12-20; "old secret" expired 2025-01-01, hr-export's
		// ends 2027-05-01, the certificate 2027-01-01.
		want: []string{
			"entra:contoso:app/3f1e6b2a-9c4d-4e8f-a1b2-c3d4e5f60001/password/e1d2c3b4-a596-4788-99aa-bbccddeeff01",
			"entra:contoso:app/3f1e6b2a-9c4d-4e8f-a1b2-c3d4e5f60002/password/f0e1d2c3-b4a5-4697-8899-aabbccddee03",
		},
		check: func(t *testing.T, a cli.Answer, r int) {
			if exp := parseTime(t, cell(t, a, r, "expires_at")); exp.Before(ref) || exp.Sub(ref) > days(30) {
				t.Errorf("row %s expires %s, not within 30 days of %s", cell(t, a, r, "id"), exp, now)
			}
			if s := cell(t, a, r, "subtype"); s != "client_secret" {
				t.Errorf("row %s: subtype %q", cell(t, a, r, "id"), s)
			}
		},
	}}
	for _, q := range questions {
		t.Run(q.name, func(t *testing.T) { q.run(t, e.with(t), x) })
	}
}
