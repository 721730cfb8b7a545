package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	env := map[string]string{"STEWARD_LISTEN": "127.0.0.1:9999", "STEWARD_API_KEYS": "k1, k2"}
	cfg, err := Load("testdata/good.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" {
		t.Errorf("env overlay: listen %q", cfg.Listen)
	}
	if time.Duration(cfg.Sync.Interval) != 6*time.Hour || time.Duration(cfg.Remediation.Expiry) != 7*24*time.Hour {
		t.Errorf("durations %v %v", cfg.Sync.Interval, cfg.Remediation.Expiry)
	}
	if cfg.Connectors[1].Name != "k8s" {
		t.Errorf("default connector name %q", cfg.Connectors[1].Name)
	}
	if len(cfg.APIKeys) != 3 || cfg.APIKeys[1].SHA256 != HashKey("k1") {
		t.Errorf("api keys %+v", cfg.APIKeys)
	}
	for _, k := range cfg.APIKeys {
		if strings.Contains(k.SHA256, "k1") {
			t.Error("plain key kept")
		}
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "graphh: x\n", "field graphh not found"},
		{"connector type", "connectors:\n  - name: a\n", "connectors[0].type"},
		{"duplicate", "connectors:\n  - type: aws\n  - type: aws\n", "connectors[1].name"},
		{"api key", "api_keys:\n  - name: a\n    sha256: abc\n", "api_keys[0].sha256"},
		{"provider", "agent:\n  provider: skynet\n", "agent.provider"},
		{"duration", "sync:\n  interval: soon\n", "line 2"},
		{"slack mode", "slack:\n  mode: carrier-pigeon\n", "slack.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "steward.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want error naming %q and the file", err, tt.want)
			}
		})
	}
}

func TestAPIKeyRolesAndAuditKey(t *testing.T) {
	h := HashKey("k")
	p := filepath.Join(t.TempDir(), "steward.yaml")
	keyFile := filepath.Join(t.TempDir(), "audit.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	yaml := "audit_log: /var/log/a.log\naudit_key_file: " + keyFile + "\napi_keys:\n  - {name: old, sha256: " + h + "}\n  - {name: sam, sha256: " + h + ", role: admin, email: Sam@Example.com}\n"
	os.WriteFile(p, []byte(yaml), 0o600)
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIKeys[0].Role != RoleReader || cfg.APIKeys[1].Role != RoleAdmin || cfg.APIKeys[1].Email != "sam@example.com" {
		t.Errorf("keys %+v", cfg.APIKeys)
	}
	if k, err := cfg.AuditKey(os.ReadFile); err != nil || len(k) != 32 {
		t.Errorf("audit key %d bytes, %v", len(k), err)
	}
	if cfg.AuditAnchorPath() != "/var/log/a.log.anchor" {
		t.Errorf("anchor %s", cfg.AuditAnchorPath())
	}
	env := map[string]string{"STEWARD_AUDIT_KEY": "short"}
	cfg, err = Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.AuditKey(os.ReadFile); err == nil {
		t.Error("a short STEWARD_AUDIT_KEY was accepted")
	}
	for _, tt := range []struct{ yaml, want string }{
		{"api_keys:\n  - {name: a, sha256: " + h + ", role: root}\n", "api_keys[0].role"},
		{"api_keys:\n  - {name: a, sha256: " + h + ", email: nobody}\n", "api_keys[0].email"},
	} {
		os.WriteFile(p, []byte(tt.yaml), 0o600)
		if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
}
