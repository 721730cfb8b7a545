package offlineasker

import (
	"context"
	"strings"
	"testing"
	"time"

	// The planner knows source names ("aws") from the connectors'
	// registrations, as in every binary.
	_ "github.com/steward-oss/steward/connectors/all"
	"github.com/steward-oss/steward/internal/testgraph"
)

func TestFollowUpNarrows(t *testing.T) {
	ix := testgraph.Load(t, "../../query/testdata/small.jsonl")
	a := New(ix, func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) })
	ctx := context.Background()
	tests := []struct {
		conv, msg string
		narrows   bool // a follow-up of the previous question
	}{
		{"c1", "which service accounts are admin", false},
		{"c1", "only the aws ones", true},
	}
	prev := -1
	for _, tt := range tests {
		ans, err := a.Chat(ctx, tt.conv, "alice", tt.msg, nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.msg, err)
		}
		if ans.Plan == nil || !strings.HasSuffix(ans.Answer, " matches.") {
			t.Fatalf("%q: answer %+v", tt.msg, ans)
		}
		if tt.narrows && ans.Total > prev {
			t.Errorf("follow-up %q found %d, more than the %d it narrows", tt.msg, ans.Total, prev)
		}
		prev = ans.Total
	}
}
