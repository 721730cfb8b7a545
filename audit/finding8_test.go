package audit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// writeSignedLog appends n records with the test key and a checkpoint,
// and returns the log's lines and the checkpoint path.
func writeSignedLog(t *testing.T, n int) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	path, cp := filepath.Join(dir, "audit.log"), filepath.Join(dir, "anchor.json")
	l, err := Open(path, WithClock(fixedClock()), WithKey(testKey), WithCheckpoint(cp))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := l.Append(context.Background(), Record{Actor: "alice@example.com", Action: ActionApproval,
			Target: "aws:123456789012:user/etl", Where: WhereSlack, Outcome: "approved",
			Details: map[string]string{"i": strings.Repeat("x", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	b, _ := os.ReadFile(path)
	return strings.SplitAfter(string(b), "\n")[:n], cp
}

// TestFinding8Tampering: issue 12 finding 8. Each tampering fails
// verification with the key and the checkpoint (old code: a forged
// appended record, a deleted last line, an emptied file and duplicate or
// re-cased keys all verified).
func TestFinding8Tampering(t *testing.T) {
	lines, cp := writeSignedLog(t, 4)
	all := strings.Join(lines, "")
	forge := func(mac string) string {
		var last Record
		json.Unmarshal([]byte(lines[3]), &last)
		r := Record{Seq: 5, Time: last.Time, Actor: "mallory", Action: ActionApproval, Target: "x", Where: WhereCLI, Outcome: "approved", PrevHash: last.Hash}
		r.Hash, _ = r.ComputeHash()
		r.MAC = mac
		b, _ := json.Marshal(r)
		return all + string(b) + "\n"
	}
	forged, forgedMAC := forge(""), forge(strings.Repeat("ab", 32))
	anchor, err := ReadAnchor(cp)
	if err != nil || anchor.Seq != 4 || anchor.MAC == "" {
		t.Fatalf("checkpoint %+v, %v", anchor, err)
	}
	tests := []struct {
		name, log string
		reason    Reason
	}{
		{"one changed byte", strings.Replace(all, "alice", "alicf", 1), ReasonEdited},
		{"deleted middle line", lines[0] + lines[2] + lines[3], ReasonSeqGap},
		{"deleted last line", strings.Join(lines[:3], ""), ReasonMissingTail},
		{"forged appended record, no MAC", forged, ReasonUnauthenticated},
		{"forged appended record, made-up MAC", forgedMAC, ReasonForged},
		{"emptied file", "", ReasonMissingTail},
		{"duplicate key", strings.Replace(all, `{"seq":1,`, `{"seq":1,"actor":"mallory",`, 1), ReasonMalformed},
		{"case-changed key", strings.Replace(all, `"actor":"alice@example.com"`, `"Actor":"alice@example.com"`, 1), ReasonMalformed},
		{"duplicate details key", strings.Replace(all, `"details":{"i":""}`, `"details":{"i":"","i":""}`, 1), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.log == all {
				t.Fatal("tampering changed nothing")
			}
			_, err := VerifyWith(strings.NewReader(tt.log), VerifyOptions{Key: testKey, Anchor: &anchor})
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason != tt.reason {
				t.Fatalf("VerifyWith = %v; want reason %q", err, tt.reason)
			}
		})
	}
	t.Run("intact", func(t *testing.T) {
		res, err := VerifyWith(strings.NewReader(all), VerifyOptions{Key: testKey, Anchor: &anchor})
		if err != nil || res.Records != 4 || res.MACs != 4 || !res.Anchored {
			t.Fatalf("intact log: %+v, %v", res, err)
		}
	})
	t.Run("forged checkpoint", func(t *testing.T) {
		a := anchor
		a.Seq = 3
		if _, err := VerifyWith(strings.NewReader(all), VerifyOptions{Key: testKey, Anchor: &a}); err == nil {
			t.Fatal("checkpoint with a changed seq accepted")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		if _, err := VerifyWith(strings.NewReader(all), VerifyOptions{Key: []byte("another key, 32 bytes long......")}); err == nil {
			t.Fatal("wrong key accepted")
		}
	})
	t.Run("empty without anchor", func(t *testing.T) {
		if _, err := Verify(strings.NewReader("")); err == nil {
			t.Fatal("empty log verified")
		}
	})
}

// TestOpenRefusesLogBehindCheckpoint: the writer does not extend a log
// whose tail was cut or that gained an unsigned record.
func TestOpenRefusesLogBehindCheckpoint(t *testing.T) {
	lines, cp := writeSignedLog(t, 3)
	dir := filepath.Dir(cp)
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte(strings.Join(lines[:2], "")), 0o600)
	if _, err := Open(path, WithKey(testKey), WithCheckpoint(cp)); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("Open of a cut log = %v", err)
	}
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	l, err := Open(path, WithKey(testKey), WithCheckpoint(cp))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// TestKeyAddedToExistingLog: records written before the key was set are
// covered by the first signed record's chain.
func TestKeyAddedToExistingLog(t *testing.T) {
	path, _ := writeLog(t, 2)
	l, err := Open(path, WithKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), Record{Actor: "a", Action: ActionLoad, Where: WhereCLI, Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	res, err := VerifyFileWith(path, VerifyOptions{Key: testKey})
	if err != nil || res.Records != 3 || res.MACs != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestParseKey(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		fail bool
	}{
		{strings.Repeat("ab", 32) + "\n", 32, false},
		{"0123456789abcdef0123456789abcdefXYZ", 35, false},
		{"short", 0, true},
		{"  ", 0, true},
	} {
		k, err := ParseKey([]byte(tt.in))
		if (err != nil) != tt.fail || (!tt.fail && len(k) != tt.n) {
			t.Errorf("ParseKey(%q) = %d bytes, %v", tt.in, len(k), err)
		}
	}
}

func TestMaskRecordPassesAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	secrets := []string{"AKIAYVP4CIPPERUVIFXG", "ghp_" + strings.Repeat("a1", 18), "xoxb-1234567890-abcdef", "-----BEGIN RSA PRIVATE KEY-----", "sk-proj-" + strings.Repeat("x", 24)}
	for _, s := range secrets {
		rec := MaskRecord(Record{Actor: "a", Action: ActionQuestion, Where: WhereHTTP, Outcome: "answered", Details: map[string]string{"question": "what can " + s + " access"}})
		if strings.Contains(rec.Details["question"], s) {
			t.Errorf("%q not masked: %q", s, rec.Details["question"])
		}
		if _, err := l.Append(context.Background(), rec); err != nil {
			t.Errorf("masked record refused: %v", err)
		}
	}
}
