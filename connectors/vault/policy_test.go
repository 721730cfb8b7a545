package vault

import (
	"reflect"
	"strings"
	"testing"

	"github.com/steward-oss/steward/graph"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []Rule
		err  string
	}{
		{"capabilities", `
# app read access
path "secret/data/payments/*" {
  capabilities = ["read", "list", "read"]
}
path "auth/token/lookup-self" { capabilities = ["read"] }`,
			[]Rule{{"secret/data/payments/*", []string{"list", "read"}, 3}, {"auth/token/lookup-self", []string{"read"}, 6}}, ""},
		{"legacy policy value", `path "sys/*" { policy = "sudo" }`,
			[]Rule{{"sys/*", []string{"create", "delete", "list", "read", "sudo", "update"}, 1}}, ""},
		{"json form", `{"path": {"secret/*": {"capabilities": ["deny"]}}}`,
			[]Rule{{"secret/*", []string{"deny"}, 0}}, ""},
		{"unknown capability", "path \"x\" {\n capabilities = [\"reed\"]\n}", nil, `line 1: path "x": unknown capability "reed"`},
		{"syntax error", "path \"x\" {\n capabilities = [\"read\"\n", nil, "parse"},
		{"unknown stanza", "paths \"x\" {}", nil, `unknown stanza "paths"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePolicy(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestRulePrivilege(t *testing.T) {
	tests := []struct {
		path string
		caps []string
		want graph.Privilege
	}{
		{"*", []string{"create", "read", "update", "delete", "list", "sudo"}, graph.PrivAdmin},
		{"*", []string{"read", "list"}, graph.PrivRead},
		{"sys/policies/acl/*", []string{"update"}, graph.PrivAdmin},
		{"sys/*", []string{"sudo", "update"}, graph.PrivAdmin},
		{"sys/policies/+/*", []string{"create"}, graph.PrivAdmin},
		{"sys/mounts/*", []string{"update"}, graph.PrivWrite},
		{"secret/data/*", []string{"create", "update"}, graph.PrivWrite},
		{"secret/data/*", []string{"read"}, graph.PrivRead},
		{"secret/data/admin", []string{"deny"}, graph.PrivNone},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+strings.Join(tt.caps, ","), func(t *testing.T) {
			if got := (Rule{Path: tt.path, Capabilities: tt.caps}).Privilege(); got != tt.want {
				t.Errorf("got %s want %s", got, tt.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		p, path string
		want    bool
	}{
		{"*", "sys/policies/acl/x", true},
		{"sys/*", "sys/policies/acl/x", true},
		{"sys/pol*", "sys/policies/acl/x", true},
		{"sys/policies/acl/x", "sys/policies/acl/x", true},
		{"sys/policies/acl", "sys/policies/acl/x", false},
		{"sys/+/acl/*", "sys/policies/acl/x", true},
		{"sys/+/acl/*", "sys/policies/egp/x", false},
		{"secret/*", "sys/policies/acl/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.p, func(t *testing.T) {
			if got := Covers(tt.p, tt.path); got != tt.want {
				t.Errorf("Covers(%q, %q) = %v", tt.p, tt.path, got)
			}
		})
	}
}
