package slackbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/review"
)

func reviewNotice(n int) review.Notice {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	in := &review.Instance{ID: "q4-20261101", Campaign: review.Campaign{Name: "q4"}, LaunchedAt: t0, Due: t0.Add(14 * 24 * time.Hour)}
	for i := 0; i < n; i++ {
		it := &review.Item{ID: fmt.Sprintf("i%d", i+1), Reviewer: "mia@example.com", Snapshot: review.Snapshot{
			ID: fmt.Sprintf("postgres:orders:role/svc_%d", i), Name: fmt.Sprintf("svc_%d", i), Kind: graph.KindServiceAccount,
			Source: "postgres:orders", Privilege: "admin", Owner: "alice@example.com", IdleDays: 120 + i, CredentialAgeDays: -1,
			LastUsed: t0.Add(-120 * 24 * time.Hour), UnusedKnown: i%2 == 0, Unused: []string{"SELECT"}}}
		if i == 1 {
			it.Snapshot.Owner, it.Snapshot.OwnerState, it.Snapshot.Leaks = "", "departed", []string{"github:acme/app"}
			it.Changed, it.ChangedHow = true, "privilege admin -> read"
		}
		in.Items = append(in.Items, it)
	}
	return review.Notice{Kind: "assigned", Instance: in, Reviewer: "mia@example.com", Items: in.Items}
}

func TestReviewMessagesPaged(t *testing.T) {
	tests := []struct {
		items, pages int
	}{{1, 1}, {10, 1}, {11, 2}, {25, 3}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.items), func(t *testing.T) {
			n := reviewNotice(tt.items)
			msgs := reviewMessages(n, n.Instance.LaunchedAt)
			if len(msgs) != tt.pages {
				t.Fatalf("%d pages, want %d", len(msgs), tt.pages)
			}
			seen := 0
			for p, blocks := range msgs {
				if len(blocks) > 50 {
					t.Fatalf("page %d has %d blocks; Slack allows 50", p, len(blocks))
				}
				b, _ := json.Marshal(blocks)
				seen += strings.Count(string(b), `"action_id":"`+ActionReviewDetails+`"`)
				if !strings.Contains(string(b), fmt.Sprintf("page %d of %d", p+1, tt.pages)) {
					t.Fatalf("page %d lacks its page line", p)
				}
			}
			if seen != tt.items {
				t.Fatalf("%d items have buttons, want %d", seen, tt.items)
			}
		})
	}
}

// TestGoldenReviewBlocks pins the Block Kit JSON of a reviewer's message:
// Modify only where unused permissions are known, the departed owner, the
// leak and the change since launch. Run with -update after an intended
// change.
func TestGoldenReviewBlocks(t *testing.T) {
	n := reviewNotice(2)
	msgs := reviewMessages(n, n.Instance.LaunchedAt)
	got, _ := json.MarshalIndent(slack.Blocks{BlockSet: msgs[0]}, "", "  ")
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", "review.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("review blocks differ from %s:\n%s", path, firstDiff(string(got), string(want)))
	}
	if strings.Count(string(got), ActionReviewModify) != 1 {
		t.Fatal("Modify must be offered only for the item with known unused permissions")
	}
}

func TestReviewRefusalMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", review.ErrSelfReview), "You own this identity"},
		{fmt.Errorf("x: %w: mia", review.ErrNotReviewer), "not the reviewer"},
		{fmt.Errorf("x: %w (due)", review.ErrClosed), "closed"},
		{fmt.Errorf("x: %w", review.ErrJustificationRequired), "needs a justification"},
		{fmt.Errorf("review: decide q/i1: %w: nothing to remove", review.ErrBadDecision), "cannot be recorded: nothing to remove"},
		{fmt.Errorf("pq: connection refused to 10.0.0.1"), "details are in Steward's log"},
	}
	for _, tt := range tests {
		if got := reviewRefusal(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("reviewRefusal(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
