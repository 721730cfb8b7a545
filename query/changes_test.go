package query

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-oss/steward/graph"
)

func TestChangePlans(t *testing.T) {
	tests := []struct{ plan, field string }{
		{`{"version":1,"changes":{"last_sync":true}}`, ""},
		{`{"version":1,"sources":["aws"],"ids":["aws:1:user/x"],"changes":{"since":"2026-10-31T00:00:00Z","types":["new_admin","grant_added"],"window":"since yesterday"},"limit":5}`, ""},
		{`{"version":1,"changes":{"since":"2026-10-31T00:00:00Z","last_sync":true}}`, "changes.since"},
		{`{"version":1,"changes":{"types":["new_admin","admin_added"]}}`, "changes.types[1]"},
		{`{"version":1,"kinds":["bot"],"changes":{}}`, "kinds"},
		{`{"version":1,"filters":[{"field":"leaked","op":"eq","value":true}],"changes":{}}`, "filters"},
		{`{"version":1,"group_by":["source"],"changes":{}}`, "group_by"},
		{`{"version":1,"sort":[{"field":"name"}],"changes":{}}`, "sort"},
		{`{"version":1,"reach":{"from":"x"},"changes":{}}`, "changes"},
		{`{"version":1,"who_can":{"resource":"*","privilege":"admin"},"changes":{}}`, "changes"},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			p, err := Parse([]byte(tt.plan))
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatal(err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("err %v, want one on %s", err, tt.field)
			case tt.field == "":
				// The executor runs graph plans only: a change plan is
				// refused, naming the tool that runs it.
				_, err := Execute(context.Background(), graph.Build(nil), p, time.Now())
				if !errors.As(err, &fe) || fe.Field != "changes" {
					t.Fatalf("Execute: %v", err)
				}
			}
		})
	}
}
