package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// writeLog appends n records and returns the file's lines.
func writeLog(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		_, err := l.Append(context.Background(), Record{
			Actor: "alice@example.com", Action: ActionApproval, Target: "aws:123456789012:user/etl",
			Where: WhereSlack, Outcome: "approved",
			Details: map[string]string{"proposal": "p1", "i": strings.Repeat("x", i), "key": "AKIA…WXYZ"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.SplitAfter(string(b), "\n")[:n]
}

func TestVerifyIntact(t *testing.T) {
	for _, n := range []int{1, 5} {
		path, _ := writeLog(t, n)
		got, err := VerifyFile(path)
		if err != nil || got != n {
			t.Errorf("VerifyFile with %d records = %d, %v", n, got, err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	_, lines := writeLog(t, 5)
	tests := []struct {
		name     string
		mutate   func([]string) string
		wantLine int
		wantSeq  int64
		reason   Reason
		goodN    int
	}{
		{"edit one field", func(l []string) string {
			l[2] = strings.Replace(l[2], `"outcome":"approved"`, `"outcome":"rejected"`, 1)
			return strings.Join(l, "")
		}, 3, 3, ReasonEdited, 2},
		{"edit details", func(l []string) string {
			l[1] = strings.Replace(l[1], `"proposal":"p1"`, `"proposal":"p9"`, 1)
			return strings.Join(l, "")
		}, 2, 2, ReasonEdited, 1},
		{"add a field", func(l []string) string {
			l[0] = strings.Replace(l[0], `{"seq":1,`, `{"seq":1,"extra":"x",`, 1)
			return strings.Join(l, "")
		}, 1, 1, ReasonMalformed, 0},
		{"swap two lines", func(l []string) string {
			l[1], l[2] = l[2], l[1]
			return strings.Join(l, "")
		}, 2, 3, ReasonSeqGap, 1},
		{"delete a middle line", func(l []string) string {
			return strings.Join(append(l[:2:2], l[3:]...), "")
		}, 3, 4, ReasonSeqGap, 2},
		{"delete the first line", func(l []string) string {
			return strings.Join(l[1:], "")
		}, 1, 2, ReasonSeqGap, 0},
		{"renumber after deleting", func(l []string) string {
			// Deleting line 3 and renumbering seq hides the gap, but
			// prev_hash still points at the deleted record.
			l3 := strings.Replace(l[3], `"seq":4`, `"seq":3`, 1)
			return l[0] + l[1] + l3
		}, 3, 3, ReasonPrevHash, 2},
		{"truncate the last line", func(l []string) string {
			all := strings.Join(l, "")
			return all[:len(all)-20]
		}, 5, 0, ReasonTruncated, 4},
		{"drop final newline", func(l []string) string {
			all := strings.Join(l, "")
			return all[:len(all)-1]
		}, 5, 5, ReasonTruncated, 4},
		{"garbage line", func(l []string) string {
			return l[0] + "not json\n" + strings.Join(l[1:], "")
		}, 2, 0, ReasonMalformed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := append([]string(nil), lines...)
			n, err := Verify(strings.NewReader(tt.mutate(cp)))
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %d, %v; want *VerifyError", n, err)
			}
			if !errors.Is(err, ErrBrokenChain) {
				t.Errorf("error does not wrap ErrBrokenChain")
			}
			if ve.Line != tt.wantLine || ve.Seq != tt.wantSeq || ve.Reason != tt.reason || n != tt.goodN {
				t.Errorf("got line %d seq %d reason %q n %d; want line %d seq %d reason %q n %d (%v)",
					ve.Line, ve.Seq, ve.Reason, n, tt.wantLine, tt.wantSeq, tt.reason, tt.goodN, err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q does not name the line", err)
			}
		})
	}
}

// Deleting the last line leaves a valid, shorter chain: only an anchor
// recorded from Head beforehand detects it.
func TestDeletedTailNeedsAnchor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := l.Append(context.Background(), Record{Actor: "a", Action: ActionLoad, Where: WhereCLI, Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	anchor := l.Head()
	l.Close()
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	cut := strings.Join(lines[:2], "")

	if n, err := Verify(strings.NewReader(cut)); err != nil || n != 2 {
		t.Fatalf("plain Verify of cut log = %d, %v; want 2, nil (undetectable without anchor)", n, err)
	}
	tests := []struct {
		name   string
		log    string
		anchor Anchor
		reason Reason
	}{
		{"intact", string(b), anchor, ""},
		{"last line deleted", cut, anchor, ReasonMissingTail},
		{"anchor hash differs", string(b), Anchor{Seq: 3, Hash: strings.Repeat("a", 64)}, ReasonAnchorMismatch},
		{"older anchor still fine", string(b), Anchor{Seq: 2, Hash: strings.TrimSpace(extractHash(t, lines[1]))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyAnchor(strings.NewReader(tt.log), tt.anchor)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("VerifyAnchor: %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason != tt.reason {
				t.Fatalf("VerifyAnchor = %v; want reason %q", err, tt.reason)
			}
		})
	}
}

func extractHash(t *testing.T, line string) string {
	t.Helper()
	rec, err := decodeLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Hash
}

func TestOpenContinuesAndRefusesBrokenChain(t *testing.T) {
	path, lines := writeLog(t, 3)
	l, err := Open(path, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(context.Background(), Record{Actor: "bob", Action: ActionRollback, Where: WhereCLI, Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Seq != 4 || rec.PrevHash != extractHash(t, lines[2]) {
		t.Errorf("reopened append got seq %d prev %s; want seq 4 chained to line 3", rec.Seq, rec.PrevHash)
	}
	if _, err := Open(path); err == nil {
		t.Error("second Open of a held log succeeded; want lock error")
	}
	l.Close()
	if n, err := VerifyFile(path); err != nil || n != 4 {
		t.Fatalf("VerifyFile = %d, %v", n, err)
	}

	tampered := strings.Replace(strings.Join(lines, ""), `"approved"`, `"rejected"`, 1)
	bad := filepath.Join(t.TempDir(), "bad.log")
	if err := os.WriteFile(bad, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(bad)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Line != 1 {
		t.Fatalf("Open of tampered log = %v; want VerifyError at line 1", err)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if h := l.Head(); h.Seq != 0 {
		t.Errorf("empty log head = %+v", h)
	}
}

func TestAppendRejects(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct {
		name string
		rec  Record
		want error
		says string
	}{
		{"no action", Record{Actor: "a", Where: WhereCLI}, ErrInvalidRecord, "action"},
		{"no actor", Record{Action: ActionLoad, Where: WhereCLI}, ErrInvalidRecord, "actor"},
		{"bad where", Record{Actor: "a", Action: ActionLoad, Where: "email"}, ErrInvalidRecord, "where"},
		{"aws key in details", Record{Actor: "a", Action: ActionLoad, Where: WhereCLI,
			Details: map[string]string{"key": "AKIAIOSFODNN7EXAMPLE"}}, ErrSecretValue, "details.key"},
		{"github token in target", Record{Actor: "a", Action: ActionLoad, Where: WhereCLI,
			Target: "ghp_" + strings.Repeat("a1B2", 9)}, ErrSecretValue, "target"},
		{"private key in outcome", Record{Actor: "a", Action: ActionLoad, Where: WhereCLI,
			Outcome: "-----BEGIN RSA PRIVATE KEY-----"}, ErrSecretValue, "outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Append(context.Background(), tt.rec)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Append = %v; want %v mentioning %q", err, tt.want, tt.says)
			}
			if strings.Contains(err.Error(), "AKIAIOSFODNN7EXAMPLE") {
				t.Fatal("error repeats the secret value")
			}
		})
	}
	if h := l.Head(); h.Seq != 0 {
		t.Errorf("rejected records were written: head %+v", h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, Record{Actor: "a", Action: ActionLoad, Where: WhereCLI}); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled ctx = %v", err)
	}
	l.Close()
	if _, err := l.Append(context.Background(), Record{Actor: "a", Action: ActionLoad, Where: WhereCLI}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v; want ErrClosed", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if _, err := l.Append(context.Background(), Record{Actor: "worker", Action: ActionQuestion, Where: WhereHTTP,
					Details: map[string]string{"g": string(rune('a' + g))}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	if n, err := VerifyFile(path); err != nil || n != 200 {
		t.Fatalf("VerifyFile = %d, %v; want 200", n, err)
	}
}

func TestExport(t *testing.T) {
	path, lines := writeLog(t, 3)
	var out bytes.Buffer
	n, err := ExportFile(path, &out)
	if err != nil || n != 3 {
		t.Fatalf("ExportFile = %d, %v", n, err)
	}
	if got, _ := Verify(bytes.NewReader(out.Bytes())); got != 3 {
		t.Errorf("exported log verifies %d records, want 3", got)
	}
	if out.String() != strings.Join(lines, "") {
		t.Errorf("export differs from stored lines:\n%s", out.String())
	}

	out.Reset()
	tampered := lines[0] + strings.Replace(lines[1], "alice", "mallory", 1) + lines[2]
	n, err = Export(&out, strings.NewReader(tampered))
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Seq != 2 || n != 1 {
		t.Fatalf("Export of tampered log = %d, %v", n, err)
	}
	if out.String() != lines[0] {
		t.Errorf("export wrote unverified records: %q", out.String())
	}
}

func TestHeadFile(t *testing.T) {
	path, lines := writeLog(t, 3)
	a, err := HeadFile(path)
	if err != nil || a.Seq != 3 || a.Hash != extractHash(t, lines[2]) {
		t.Fatalf("HeadFile = %+v, %v", a, err)
	}
	if _, err := VerifyFileAnchor(path, a); err != nil {
		t.Errorf("VerifyFileAnchor with own head: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.log")
	os.WriteFile(bad, []byte(lines[1]), 0o600)
	if _, err := HeadFile(bad); !errors.Is(err, ErrBrokenChain) {
		t.Errorf("HeadFile of broken log = %v", err)
	}
}
