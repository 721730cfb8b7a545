package slackbot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenBlocks pins the Block Kit JSON of an answer, a proposal and an
// execution result as Slack receives it (the chat.postMessage blocks
// field). Proposal ids are random and replaced by p-ID, the receiver's address by
// http://soar.test. Run with -update
// after an intended change and review the diff.
func TestGoldenBlocks(t *testing.T) {
	h := newHarness(t, nil)
	p := h.propose("admins idle 30 days")
	h.click(carol, ActionApprove, p.ID, "1700000300.000001")
	posts := h.slack.Calls("chat.postMessage")
	if len(posts) != 4 {
		t.Fatalf("%d posts, want answer, proposal, approval note, result", len(posts))
	}
	for i, name := range map[int]string{0: "answer", 1: "proposal", 3: "result"} {
		t.Run(name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(posts[i].Form.Get("blocks")), &v); err != nil {
				t.Fatalf("blocks are not JSON: %v", err)
			}
			got, _ := json.MarshalIndent(v, "", "  ")
			got = bytes.ReplaceAll(got, []byte(p.ID), []byte("p-ID"))
			got = append(bytes.ReplaceAll(got, []byte(h.hookURL), []byte("http://soar.test")), '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s blocks differ from %s:\n%s", name, path, firstDiff(string(got), string(want)))
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got  " + gl + "\n want " + wl
		}
	}
	return ""
}
