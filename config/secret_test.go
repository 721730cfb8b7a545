package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestAuditKeyNeverPrinted checks that a loaded configuration logged or
// printed whole does not show STEWARD_AUDIT_KEY, which it keeps in an
// unexported field (fmt prints those by reflection).
func TestAuditKeyNeverPrinted(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	env := map[string]string{"STEWARD_AUDIT_KEY": key, "STEWARD_GRAPH": "memory"}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.AuditKey(nil)
	if err != nil || len(got) == 0 {
		t.Fatalf("audit key not kept: %v", err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "value", *cfg)
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"slog": logs.String(), "json": string(j),
		"%v": fmt.Sprintf("%v", *cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", *cfg)}
	for what, out := range outputs {
		if strings.Contains(out, key) || strings.Contains(out, key[8:24]) {
			t.Errorf("%s shows the audit key: %s", what, out)
		}
	}
}
