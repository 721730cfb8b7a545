package connectortest

import "testing"

func TestCredentialShape(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"masked key id", `{"id":"aws:111122223333:access-key/deploy/AKIA…MPLE"}`, ""},
		{"full key id", `{"name":"AKIAIOSFODNN7EXAMPLE"}`, "a full AWS access key id"},
		{"session key id", `"ASIAJEXAMPLEXEG2JICEA"`, ""}, // 17 characters after ASIA: not a key id
		{"temporary key id", `"ASIAJEXAMPLEXEG2JICE"`, "a full AWS access key id"},
		{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Bl", "a private key"},
		{"public key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEIAjyO4PYdc", ""},
		{"github token", `"ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000"`, "a GitHub token"},
		{"fine-grained github token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "a GitHub token"},
		{"slack token", "xoxb-test-not-real-0123", "a Slack token"},
		{"jwt", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "a JSON web token"},
		{"fingerprint", "sha256:ceba137436e9dbf42815e425b55c226a85c1e8f940d01b40646e47710c14e762", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CredentialShape(tt.text); got != tt.want {
				t.Fatalf("CredentialShape(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
