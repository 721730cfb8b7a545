package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirectoryWithStrayFile: issue 13 item 7. A file of another kind in
// an export directory (here a gitleaks report and a notes file) is
// skipped with a warning; the rest of the directory loads.
func TestDirectoryWithStrayFile(t *testing.T) {
	for _, tc := range []struct {
		connector string
		args      []string
		files     map[string]string // name in the directory -> sample
		want      string            // a node id the export must hold
	}{
		{"gcp", nil, map[string]string{"serviceaccounts.json": "gcp/cloud-custodian-gcp-serviceAccounts-list.json"},
			"gcp:cloud-custodian:serviceAccounts/my-sa-42dc41451@c7n-policy-dev.iam.gserviceaccount.com"},
		{"entra", nil, map[string]string{"sps.json": "entra/scubagear-MockServicePrincipals.json"},
			"entra:entra:sp/00000000-0000-0000-0000-000000000010"},
	} {
		t.Run(tc.connector, func(t *testing.T) {
			e := newEnv(t)
			dir := filepath.Join(e.dir, tc.connector)
			os.Mkdir(dir, 0o755)
			for name, src := range tc.files {
				copyFile(t, sample(t, filepath.FromSlash(src)), filepath.Join(dir, name))
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.json"), []byte(`{"exported_by": "ops", "when": "2026-11-30"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			e.load(tc.connector, append([]string{"--from", dir}, tc.args...)...)
			if exp := e.export(); !strings.Contains(exp, `"`+tc.want+`"`) {
				t.Errorf("%s not loaded beside the stray file", tc.want)
			}
		})
	}
}
