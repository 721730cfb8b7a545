package acceptance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
)

// samplesDir holds copies of public real-world exports with their
// SOURCES.md provenance (see testdata/README.md).
const samplesDir = "testdata/samples"

func sample(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{samplesDir}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("public sample %s missing from the repository: %v", p, err)
	}
	return p
}

// TestPublicSamples loads real public exports through the CLI and asks
// the questions whose answers their SOURCES.md documents.
func TestPublicSamples(t *testing.T) {
	t.Run("aws cloudsplaining authz v2 (copy)", func(t *testing.T) {
		e := newEnv(t)
		e.load("aws", "--authorization-details", sample(t, "cloudsplaining-example_authz_v2.json"))
		// SOURCES.md: admins are user BlakeBortles through group GOAT,
		// whose AdministratorAccess is absent from Policies; the role GOAT
		// is not an admin.
		a, ok := e.ask("which AWS roles and users are admins")
		if !ok {
			t.Fatal("the planner refused the question")
		}
		sameSet(t, "admins", ids(t, a), []string{"aws:012345678901:user/BlakeBortles"})
		for r := range a.Rows {
			grantPath(t, a, r, graph.PrivAdmin)
		}
	})
	t.Run("aws cloudsplaining example authz details", func(t *testing.T) {
		e := newEnv(t)
		e.load("aws", "--authorization-details", sample(t, "aws", "cloudsplaining-example-authz-details.json"))
		// SOURCES.md: obama (directly and through admin) and
		// userwithlotsofpermissions (through admin) hold
		// AdministratorAccess; cloudsplaining's own results for this
		// export find privilege escalation for MyRole, MyOtherRole and
		// biden (AWSLambdaFullAccess: iam:PassRole on *) and
		// OverprivilegedEC2 (iam:CreateAccessKey on *): admin too.
		a, ok := e.ask("which AWS roles and users are admins")
		if !ok {
			t.Fatal("the planner refused the question")
		}
		sameSet(t, "admins", ids(t, a), []string{"aws:012345678901:user/obama", "aws:012345678901:user/userwithlotsofpermissions",
			"aws:012345678901:role/MyOtherRole", "aws:012345678901:role/MyRole", "aws:012345678901:role/OverprivilegedEC2",
			"aws:012345678901:user/biden"})
		for r := range a.Rows {
			grantPath(t, a, r, graph.PrivAdmin)
		}
		// Roles are identities: 3 users, 3 roles and 1 instance profile
		// (UserDetailList, RoleDetailList, InstanceProfileList).
		a = e.mustAsk("which AWS roles are admins")
		sameSet(t, "admin roles", ids(t, a), []string{"aws:012345678901:role/MyOtherRole", "aws:012345678901:role/MyRole",
			"aws:012345678901:role/OverprivilegedEC2"})
		// Reading secrets is reading a secret store (Secrets Manager,
		// SSM parameters), not s3:GetObject on *: by hand over the export,
		// obama and userwithlotsofpermissions (AdministratorAccess) and
		// role OverprivilegedEC2 (inline SupYo: secretsmanager:GetSecretValue
		// on *) with its instance profile; biden's s3:GetObject is not.
		a = e.mustAsk("who can read secrets")
		sameSet(t, "secret readers", ids(t, a), []string{"aws:012345678901:user/obama", "aws:012345678901:user/userwithlotsofpermissions",
			"aws:012345678901:role/OverprivilegedEC2", "aws:012345678901:instance-profile/OverprivilegedEC2"})
		for r := range a.Rows {
			if id := cell(t, a, r, "id"); strings.HasSuffix(id, "OverprivilegedEC2") {
				if act := cell(t, a, r, "action"); act != "secretsmanager:GetSecretValue" {
					t.Errorf("%s: action %q, want the grant that reads the secret, secretsmanager:GetSecretValue", id, act)
				}
			}
		}
		a = e.mustAsk("count identities by source")
		if len(a.Rows) != 1 || fmt.Sprint(a.Rows[0][len(a.Rows[0])-1]) != "7" {
			t.Errorf("count identities by source = %v %v, want aws:012345678901 7", a.Columns, a.Rows)
		}
	})
	t.Run("k8s bootstrap policy and audit2rbac log", func(t *testing.T) {
		e := newEnv(t)
		dir := filepath.Join(e.dir, "k8s")
		os.Mkdir(dir, 0o755)
		for _, f := range []string{"cluster-roles.yaml", "cluster-role-bindings.yaml", "controller-roles.yaml",
			"controller-role-bindings.yaml", "namespace-roles.yaml", "namespace-role-bindings.yaml"} {
			copyFile(t, sample(t, "k8s", f), filepath.Join(dir, f))
		}
		e.load("k8s", "--from", dir, "--cluster", "prod", "--audit-log", sample(t, "k8s", "audit2rbac-demo.log"))
		// Service accounts bound cluster-wide to a ClusterRole reading
		// secrets or everything in the bootstrap policy.
		a := e.mustAsk("which Kubernetes service accounts can read secrets cluster-wide")
		sameSet(t, "cluster-wide secret readers", ids(t, a), []string{
			"k8s:prod:sa/kube-system/expand-controller",
			"k8s:prod:sa/kube-system/generic-garbage-collector",
			"k8s:prod:sa/kube-system/namespace-controller",
			"k8s:prod:sa/kube-system/persistent-volume-binder",
			"k8s:prod:sa/kube-system/resourcequota-controller",
		})
		for r := range a.Rows {
			grantPath(t, a, r, graph.PrivRead)
		}
	})
	t.Run("gcp cloud custodian flight data", func(t *testing.T) {
		e := newEnv(t)
		dir := filepath.Join(e.dir, "gcp")
		os.Mkdir(dir, 0o755)
		// The recordings as they are: each API response wrapped as
		// {"headers","body"}, files under their own names (the policy is
		// a project's: its name says so), and an API-keys list.
		for _, f := range []string{"cloud-custodian-gcp-serviceAccounts-list.json", "cloud-custodian-gcp-serviceAccount-keys-list.json",
			"cloud-custodian-gcp-serviceAccount-key-get.json", "cloud-custodian-gcp-project-getIamPolicy.json",
			"cloud-custodian-gcp-apikeys-list.json"} {
			copyFile(t, sample(t, "gcp", f), filepath.Join(dir, f))
		}
		e.load("gcp", "--from", dir)
		// keys-list: key 1 SYSTEM_MANAGED, key 2 USER_MANAGED (2021-03-31);
		// key-get: 2222 USER_MANAGED (2021-03-31).
		const sa = "gcp:cloud-custodian:serviceAccounts/test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com/keys/"
		a := e.mustAsk("GCP service accounts with user-managed keys older than 90 days")
		sameSet(t, "user-managed keys older than 90 days", ids(t, a), []string{sa + "2", sa + "2222"})
		// Google rotates system-managed keys itself: key 1 is not old. The
		// two API keys were created in 2019 and 2021.
		a = e.mustAsk("GCP keys older than 90 days")
		sameSet(t, "keys older than 90 days", ids(t, a), []string{sa + "2", sa + "2222",
			"gcp:cloud-custodian:apiKeys/03b651c2-718a-4702-b5d7-9946987cc4da", "gcp:cloud-custodian:apiKeys/5fdd3f25-37dc-44e8-9f81-10095abaded7"})
	})
	t.Run("entra ScubaGear PowerShell export", func(t *testing.T) {
		e := newEnv(t)
		dir := filepath.Join(e.dir, "entra")
		os.Mkdir(dir, 0o755)
		for _, f := range []string{"scubagear-MockApplications.json", "scubagear-MockServicePrincipals.json"} {
			copyFile(t, sample(t, "entra", f), filepath.Join(dir, f))
		}
		// Files need no --tenant (only live reads do); the source is
		// named after the directory.
		e.load("entra", "--from", dir)
		x := parseExport(t, e.export())
		// Every service principal's appOwnerOrganizationId is another
		// tenant (ScubaGear's mock: 111…, 222…, … 666…): 6 third-party
		// apps; the 3 app registrations are the tenant's own.
		a := e.mustAsk("third-party apps")
		var want []string
		for _, sp := range []string{"10", "20", "30", "40", "50", "60"} {
			want = append(want, "entra:entra:sp/00000000-0000-0000-0000-0000000000"+sp)
		}
		sameSet(t, "third-party apps", ids(t, a), want)
		var apps int
		for _, n := range x.nodes {
			if n.Kind == string(graph.KindOAuthApp) {
				apps++
			}
		}
		if apps == 0 {
			t.Error("no application loaded from Get-MgApplication output")
		}
	})
	t.Run("secret scanner reports", func(t *testing.T) {
		for _, tc := range []struct{ connector, file string }{
			{"gitleaks", "gitleaks-baseline.json"},
			{"gitleaks", "gitleaks-json_simple.json"},
			{"gitleaks", "defectdojo-gitleaks-gitleaks8_many.json"},
			{"trufflehog", "defectdojo-trufflehog-v3_git.json"},
			{"trufflehog", "defectdojo-trufflehog-v3_github.json"},
		} {
			t.Run(tc.file, func(t *testing.T) {
				e := newEnv(t)
				// The copies have every secret value replaced by a fake of
				// the same length (testdata/README.md); never printed.
				p := sample(t, "secrets", tc.file)
				e.load(tc.connector, "--from", p)
				exp := e.export()
				if !strings.Contains(exp, `"leaked_in"`) {
					t.Error("no leaked_in edge loaded")
				}
				for i, s := range secretValues(t, p) {
					if strings.Contains(exp, s) {
						t.Errorf("secret value #%d of %s reached the graph", i, tc.file)
					}
				}
			})
		}
	})
}

// secretValues returns the secret-bearing fields of a gitleaks (JSON
// array) or TruffleHog (JSON lines) report, skipping redacted and short
// values that could match by chance.
func secretValues(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	dec := json.NewDecoder(bufio.NewReader(f))
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch x := v.(type) {
		case []any:
			for _, r := range x {
				if m, ok := r.(map[string]any); ok {
					recs = append(recs, m)
				}
			}
		case map[string]any:
			recs = append(recs, x)
		}
	}
	var out []string
	for _, r := range recs {
		for _, k := range []string{"Secret", "Match", "Raw", "RawV2"} {
			s, _ := r[k].(string)
			if len(s) >= 12 && strings.Trim(s, "*") != "" && !strings.Contains(s, "REDACTED") {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		t.Logf("%s: every secret field is redacted or short", path)
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
