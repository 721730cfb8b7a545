package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-oss/steward/connectors/input"
)

// Issue 12, input limits: the per-file and per-field limits come from the
// configuration (input.max_file_bytes, input.max_field_bytes; they were
// fixed at 512 MiB and 1 MiB), and a file over one is refused naming the
// file, the place and the limit with its key.
func TestInputLimitsFromConfig(t *testing.T) {
	t.Cleanup(func() { input.SetDefault(input.Limits{}) })
	dir := t.TempDir()
	file := filepath.Join(dir, "one.jsonl")
	os.WriteFile(file, []byte(`{"type":"node","id":"x:1","kind":"bot","source":"x","name":"a-name-of-forty-bytes-0123456789abcdefgh"}`+"\n"), 0o600)
	tests := []struct {
		name   string
		config string
		code   int
		want   []string // in stderr
	}{
		{"defaults", "", 0, nil},
		{"file limit", "input: {max_file_bytes: 64}\n", ExitError, []string{file, "file too large", "limit of 64", "input.max_file_bytes"}},
		{"field limit", "input: {max_field_bytes: 32}\n", ExitError, []string{file + ":1", "field too long", "limit of 32", "input.max_field_bytes"}},
		{"negative", "input: {max_file_bytes: -1}\n", ExitError, []string{"input.max_file_bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(cfg, []byte("graph: "+filepath.Join(dir, tc.name+".db")+"\naudit_log: "+filepath.Join(dir, "audit.log")+"\n"+tc.config), 0o600)
			code, _, errs := run(t, "--config", cfg, "load", "graph", "--from", file)
			if (code == 0) != (tc.code == 0) {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}
