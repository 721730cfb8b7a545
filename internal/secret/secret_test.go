package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestMask runs the inputs of every mask function this one replaced
// (awsid.MaskKeyID, the gcp, entra, vault, secretscan and demo masks,
// tools.Mask, audit.MaskSecrets' inline rule). The "was" column records
// where they disagreed: gcp and entra passed ids of 8 characters or
// fewer through unmasked, demo's mask panicked under 8, vault and
// secretscan printed "…" under 12, awsid printed one '*' per character,
// tools and audit showed 8 of a 9-character value.
func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want, was string
	}{
		{"aws access key id", "AKIAIOSFODNN7EXAMPLE", "AKIA…MPLE", "awsid, secretscan, tools, audit agreed"},
		{"aws key in tools test", "AKIAABCDEFGHIJKLMNOP", "AKIA…MNOP", "tools"},
		{"gcp sa key id", "0f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6", "0f9e…c7d6", "gcp"},
		{"entra key id", "f0e1d2c3-b4a5-4697-8877-66554433ee03", "f0e1…ee03", "entra"},
		{"vault accessor", "hHx0aQbwFBFtUxYKQyXtNvdJ", "hHx0…NvdJ", "vault"},
		{"github pat", "ghp_EXAMPLE0fake0token0EXAMPLE0fake0tok1", "ghp_…tok1", "secretscan, tools"},
		{"slack token", "xoxb-1234567890-abcdefghij", "xoxb…ghij", "tools, secretscan"},
		{"exactly 12", "abcdefghijkl", "abcd…ijkl", "vault, secretscan: partial from 12"},
		{"11 characters", "abcdefghijk", Masked, "vault/secretscan \"…\", tools/audit/awsid/gcp/entra abcd…hijk"},
		{"9 characters", "abcdefghi", Masked, "tools/audit/gcp/entra/awsid showed 8 of 9: abcd…fghi"},
		{"8-character aws id", "AKIA1234", Masked, "awsid ********; gcp and entra passed it through"},
		{"gcp fixture key id 1", "1", Masked, "gcp passed it through; demo panicked"},
		{"3 characters", "abc", Masked, "demo panicked (slice out of range)"},
		{"multi-byte", "ключ-доступа-секрет", "ключ…крет", "gcp/entra/vault/secretscan/demo/awsid cut bytes mid-rune"},
		{"empty", "", "", "gcp, entra kept it empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q (before: %s)", tt.in, got, tt.want, tt.was)
			}
		})
	}
}

// holder is a struct a connector or config could hold and someone could
// log whole: the value must not come out through an exported field, an
// unexported one (which fmt prints by reflection), a pointer or a map.
type holder struct {
	Name   string
	Token  Secret
	hidden Secret
	Ptr    *Secret
	Map    map[string]Secret
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "xoxb-SECRETVALUE-0123456789-abcdefghijkl"
	s := New(value)
	h := holder{Name: "bot", Token: s, hidden: s, Ptr: &s, Map: map[string]Secret{"k": s}}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("cfg", "holder", h, "token", s, "ptr", &h)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("cfg", "holder", h, "token", s, "ptr", &h)
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"slog text": text.String(),
		"slog json": js.String(),
		"json":      string(j),
		"yaml":      string(y),
		"error":     fmt.Errorf("slack: auth %v: %w", s, errors.New("denied")).Error(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-v"} {
		outputs["fmt "+verb+" struct"] = fmt.Sprintf(verb, h)
		outputs["fmt "+verb+" pointer"] = fmt.Sprintf(verb, &h)
		outputs["fmt "+verb+" secret"] = fmt.Sprintf(verb, s)
	}
	for what, out := range outputs {
		// The hex and quoted forms are checked too: %x of a raw string
		// would leak the value in hex.
		for _, leak := range []string{value, "SECRETVALUE", fmt.Sprintf("%x", value), fmt.Sprintf("%X", value)} {
			if strings.Contains(out, leak) {
				t.Errorf("%s contains the secret: %s", what, out)
			}
		}
	}
	if !strings.Contains(text.String(), "xoxb…ijkl") || !strings.Contains(js.String(), `"token":"xoxb…ijkl"`) || !strings.Contains(string(j), `"Token":"xoxb…ijkl"`) {
		t.Errorf("mask missing from logs or json:\n%s\n%s\n%s", text.String(), js.String(), j)
	}
	if got := fmt.Sprintf("%#v", s); got != `secret.New("xoxb…ijkl")` {
		t.Errorf("%%#v = %s", got)
	}
	if s.Reveal() != value {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestSecretZero(t *testing.T) {
	tests := []struct {
		name     string
		s        Secret
		zero     bool
		str, rev string
	}{
		{"zero value", Secret{}, true, "", ""},
		{"new empty", New(""), true, "", ""},
		{"short", New("hunter2"), false, Masked, "hunter2"},
		{"long", New("correct-horse-battery"), false, "corr…tery", "correct-horse-battery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.IsZero() != tt.zero || tt.s.String() != tt.str || tt.s.Reveal() != tt.rev {
				t.Errorf("IsZero %v String %q Reveal %q, want %v %q %q", tt.s.IsZero(), tt.s.String(), tt.s.Reveal(), tt.zero, tt.str, tt.rev)
			}
		})
	}
}

// TestMaskDSN carries the cases of graph/store's maskSecrets, which this
// replaced, and the graph DSN cli's redactDSN printed as "u:xxxxx@".
func TestMaskDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://steward:hunter2@db:5432/steward", "postgres://…@db:5432/steward"},
		{"Couldn't open database at postgresql://u:p%40ss@h/d?sslmode=disable: dial", "Couldn't open database at postgresql://…@h/d?sslmode=disable: dial"},
		{"postgres://h/d?user=u&password=hunter2&sslmode=disable", "postgres://h/d?user=u&password=…&sslmode=disable"},
		{"host=h password=hunter2 dbname=d", "host=h password=… dbname=d"},
		{"bolt:/var/lib/steward", "bolt:/var/lib/steward"},
		{"memory", "memory"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := MaskDSN(tc.in); got != tc.want {
				t.Errorf("MaskDSN(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
