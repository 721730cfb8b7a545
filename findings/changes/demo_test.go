package changes_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/steward-oss/steward/findings/changes"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
)

// TestDemoHistory pins the demo's fixed history (demo.History) on the
// default demo: the eval's change questions are scored on it, and the
// README's examples show it.
func TestDemoHistory(t *testing.T) {
	h := demo.History(demo.Config{Seed: 1, Size: 2000})
	if len(h) != len(demo.HistoryAt) {
		t.Fatalf("%d syncs, want %d", len(h), len(demo.HistoryAt))
	}
	var pts []changes.Point
	for i, sgs := range h {
		pts = append(pts, changes.Point{At: demo.HistoryAt[i], Index: graph.Build(sgs)})
	}
	l := changes.Replay(pts)
	var got []string
	for _, c := range l.Changes {
		got = append(got, fmt.Sprintf("%s %s %s %s", c.At.Format("01-02"), c.Type, c.Identity, c.Detail))
	}
	want := []string{
		"10-28 owner_lost aws:111111111111:instance-profile/auth-service-ec2 ",
		"10-28 new_credential aws:111111111111:user/ab-testing-2-ci aws:111111111111:access-key/ab-testing-2-ci/AKIA…UKQC/ab74b9521cfd",
		"10-28 identity_removed aws:111111111111:user/legacy-report-bot ",
		"10-28 grant_added gcp:acme-data:serviceAccounts/ab-testing@acme-data.iam.gserviceaccount.com allow roles/editor on *",
		"10-28 new_escalation_path gcp:acme-data:serviceAccounts/ab-testing@acme-data.iam.gserviceaccount.com gcp:keys.create",
		"10-28 identity_added github:acme:user/ab-testing-bot ",
		"10-28 new_credential github:acme:user/ab-testing-bot github:acme:user/ab-testing-bot/pat/1",
		"11-01 owner_departed aws:111111111111:oidc/token.actions.githubusercontent.com/acme/api-gateway ",
		"11-01 grant_added aws:111111111111:user/config-service-2-ci member_of aws:111111111111:group/admins",
		"11-01 new_admin aws:111111111111:user/config-service-2-ci ",
		"11-01 new_credential aws:111111111111:user/config-service-2-ci aws:111111111111:access-key/config-service-2-ci/AKIA…66MA/577a202f7ecf",
		"11-01 new_long_lived_admin_key aws:111111111111:user/config-service-2-ci aws:111111111111:access-key/config-service-2-ci/AKIA…66MA/577a202f7ecf",
		"11-01 owner_departed aws:333333333333:instance-profile/service-mesh-ec2 ",
		"11-01 owner_departed aws:333333333333:user/api-gateway-integration ",
		"11-01 owner_departed entra:acme.onmicrosoft.com:app/39d4cd74-b41a-42fd-a457-9472bad819eb ",
		"11-01 owner_departed entra:acme.onmicrosoft.com:app/d601e3e8-01eb-447e-9da6-d5e03f4863a6 ",
		"11-01 grant_added gcp:acme-data:serviceAccounts/ab-testing-2@acme-data.iam.gserviceaccount.com allow roles/editor on *",
		"11-01 new_escalation_path gcp:acme-data:serviceAccounts/ab-testing-2@acme-data.iam.gserviceaccount.com gcp:keys.create",
		"11-01 owner_departed ldap:dc=acme,dc=example:cn=svc-api-gateway-5,ou=service accounts,dc=acme,dc=example ",
		"11-01 owner_departed ldap:dc=acme,dc=example:cn=svc-config-service-4,ou=service accounts,dc=acme,dc=example ",
		"11-01 owner_departed postgres:orders-db:role/svc_service_mesh ",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("demo history:\n%v", got)
	}
	if l.Syncs[0].Changes != 0 || !l.Syncs[0].Baseline || l.Syncs[1].Changes != 7 || l.Syncs[2].Changes != 14 {
		t.Fatalf("syncs %+v", l.Syncs)
	}
	// The last sync is the demo itself.
	if last := graph.Build(demo.Generate(demo.Config{Seed: 1, Size: 2000})); last.NumNodes() != pts[2].Index.NumNodes() {
		t.Fatalf("last sync has %d nodes, the demo %d", pts[2].Index.NumNodes(), last.NumNodes())
	}
}
