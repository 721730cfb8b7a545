package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestEvalCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{"bad split", []string{"eval", "--split", "test"}, ExitUsage, "", "--split"},
		{"bad format", []string{"eval", "--format", "csv"}, ExitUsage, "", "--format"},
		{"llm without model", []string{"eval", "--llm", "--provider", "", "--model", ""}, ExitUsage, "", "--llm needs a model"},
		{"llm bad provider", []string{"eval", "--llm", "--provider", "nope", "--model", "m"}, ExitUsage, "", "unknown provider"},
		{"table", []string{"eval", "--split", "dev"}, ExitOK, "INTENT", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q", code, tt.code, out.String(), errb.String())
			}
		})
	}
}

// TestEvalJSONContract checks the fields `--format json` promises; fields
// may be added, never renamed.
func TestEvalJSONContract(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"eval", "--split", "all", "--format", "json"}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Splits map[string]struct {
			Questions *int     `json:"questions"`
			Accuracy  *float64 `json:"accuracy"`
			Right     *int     `json:"right"`
			Wrong     *int     `json:"wrong"`
			Refused   *int     `json:"refused"`
			WrongRate *float64 `json:"wrong_rate"`
		} `json:"splits"`
		Intents map[string]struct {
			Questions *int     `json:"questions"`
			Accuracy  *float64 `json:"accuracy"`
		} `json:"intents"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"dev", "tuned", "heldout"} {
		sp, ok := rep.Splits[s]
		if !ok || sp.Questions == nil || sp.Accuracy == nil || *sp.Questions == 0 || *sp.Accuracy < 0 || *sp.Accuracy > 1 {
			t.Errorf("splits.%s: %+v", s, sp)
			continue
		}
		if sp.Right == nil || sp.Wrong == nil || sp.Refused == nil || sp.WrongRate == nil ||
			*sp.Right+*sp.Wrong+*sp.Refused != *sp.Questions || *sp.WrongRate != float64(*sp.Wrong)/float64(*sp.Questions) {
			t.Errorf("splits.%s: right/wrong/refused/wrong_rate %+v", s, sp)
		}
	}
	if len(rep.Intents) < 15 {
		t.Errorf("%d intents", len(rep.Intents))
	}
	for name, in := range rep.Intents {
		if in.Questions == nil || in.Accuracy == nil {
			t.Errorf("intents.%s lacks questions or accuracy", name)
		}
	}
}
