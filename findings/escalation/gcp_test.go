package escalation

import (
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors"
)

// TestGCPClasses: testdata/gcp holds project shop-prod's IAM policy, two
// service-account IAM policies (getIamPolicy JSON) and the
// serviceAccounts.list output. admin-sa is roles/owner; low-sa only reads
// storage. Each esc-* account exercises the class below; ro-viewer-sa
// (viewer roles only) and actas-lowpriv-sa (actAs on the non-admin low-sa)
// must not be found.
func TestGCPClasses(t *testing.T) {
	ix := load(t, [2]any{"gcp", connectors.Options{"from": "testdata/gcp"}})
	r := Analyze(ix)
	tests := []struct {
		sa, want string
		evidence []string
	}{
		{"esc-actas-sa", "gcp:actAs", []string{"esc-actas-sa@shop-prod.iam.gserviceaccount.com -can_assume-> gcp:shop-prod:serviceAccounts/admin-sa", "[roles/owner projects/shop-prod]"}},
		{"esc-token-sa", "gcp:getAccessToken", []string{"-can_assume-> gcp:shop-prod:serviceAccounts/admin-sa", "[roles/owner"}},
		{"esc-keys-sa", "gcp:keys.create", []string{"[roles/iam.serviceAccountKeyAdmin projects/shop-prod]", "[roles/owner"}},
		{"esc-setiam-sa", "gcp:setIamPolicy", []string{"[roles/resourcemanager.projectIamAdmin projects/shop-prod]"}},
		{"ro-viewer-sa", "", nil},
		{"actas-lowpriv-sa", "", nil},
		{"low-sa", "", nil},
		{"admin-sa", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sa, func(t *testing.T) {
			i, ok := ix.Lookup("gcp:shop-prod:serviceAccounts/" + tt.sa + "@shop-prod.iam.gserviceaccount.com")
			if !ok {
				t.Fatal("no node")
			}
			ps := r.Paths(i)
			if tt.want == "" {
				if len(ps) != 0 {
					t.Fatalf("want no path, got %s", ps[0].Class)
				}
				return
			}
			if len(ps) != 1 || ps[0].Class != tt.want {
				var got []string
				for _, p := range ps {
					got = append(got, p.Class)
				}
				t.Fatalf("classes = %v, want [%s]", got, tt.want)
			}
			ev := evidenceString(ix, ps[0])
			for _, want := range tt.evidence {
				if !strings.Contains(ev, want) {
					t.Fatalf("evidence lacks %q in:\n%s", want, ev)
				}
			}
		})
	}
}
