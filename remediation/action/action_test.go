package action

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestKind(t *testing.T) {
	tests := []struct {
		in    string
		known bool
	}{
		{"disable_credential", true},
		{"notify_owner", true},
		{"delete", true},
		{"disable_key", false},
		{"", false},
		{"Delete", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Kind(tt.in).Known(); got != tt.known {
				t.Errorf("Known = %v, want %v", got, tt.known)
			}
		})
	}
	// The JSON shape stays a plain string.
	b, err := json.Marshal(struct {
		Type Kind `json:"type"`
	}{RevokeGrant})
	if err != nil || string(b) != `{"type":"revoke_grant"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	if got := strings.Join(Names(), ","); got != "disable_credential,deactivate_identity,revoke_grant,remove_membership,rotate_credential,notify_owner,delete" {
		t.Errorf("Names = %s", got)
	}
}
