package webhooktest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/actuate"
	"github.com/steward-oss/steward/connectors"
)

const secret = "webhooktest-secret-0123456789"

var act = connectors.Action{Type: "disable_credential", Target: "aws:111111111111:key/AKIA…WXYZ"}

func TestReceiver(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		answer  func(actuate.WebhookRequest) (int, actuate.WebhookResponse)
		wantErr string
		wantIs  error
		ops     []string // recorded
	}{
		{name: "verified and answered", secret: secret, ops: []string{"execute " + act.Target}},
		{name: "wrong secret is refused unrecorded", secret: "another-secret-0123456789", wantErr: "answered 401"},
		{name: "answer decides the status", secret: secret, wantIs: connectors.ErrTargetChanged, ops: []string{"execute " + act.Target},
			answer: func(actuate.WebhookRequest) (int, actuate.WebhookResponse) {
				return http.StatusConflict, actuate.WebhookResponse{}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := &Receiver{Secret: []byte(secret), Answer: tt.answer}
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			w, err := actuate.NewWebhook(actuate.WebhookConfig{URL: srv.URL, Secret: []byte(tt.secret), Source: "aws:111111111111"})
			if err != nil {
				t.Fatal(err)
			}
			step, err := w.Execute(context.Background(), act)
			switch {
			case tt.wantErr == "" && tt.wantIs == nil:
				if err != nil || !strings.Contains(step.Call, "disabled "+act.Target) {
					t.Fatalf("execute = %+v, %v", step, err)
				}
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs), tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("execute err = %v, want %v %q", err, tt.wantIs, tt.wantErr)
			}
			if got := rcv.Ops(); !slices.Equal(got, tt.ops) {
				t.Fatalf("ops = %q, want %q", got, tt.ops)
			}
		})
	}
}
