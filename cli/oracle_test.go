package cli

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/internal/oracle"
	"github.com/steward-oss/steward/planner"
	"github.com/steward-oss/steward/query"
)

// TestQuestionsAgainstOracle checks the core questions, planned from
// English and run by the executor, against the oracle's brute-force
// computation over the same subgraphs.
func TestQuestionsAgainstOracle(t *testing.T) {
	for _, seed := range []int64{1, 7} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			inv := openGraph(t, graphFlags{demo: true, seed: seed, size: 3000})
			or := oracle.New(inv.All())
			now := demo.Reference
			ids := func(q string) []string {
				t.Helper()
				p, err := planner.Plan(q, nil)
				if err != nil {
					t.Fatalf("%q: %v", q, err)
				}
				p.Limit = query.MaxLimit
				res, err := query.Execute(context.Background(), inv.Index(), p, now)
				if err != nil {
					t.Fatalf("%q: %v", q, err)
				}
				if res.Total > len(res.Rows) {
					t.Fatalf("%q: truncated", q)
				}
				out := append([]string(nil), res.IDs...)
				sort.Strings(out)
				return out
			}
			svc := []graph.Kind{graph.KindServiceAccount, graph.KindWorkload, graph.KindOAuthApp}
			tests := []struct {
				q    string
				want []string
			}{
				{"admins idle 30 days", or.AdminsIdle(now, 30)},
				{"admins idle 90 days", or.AdminsIdle(now, 90)},
				{"service accounts with no owner", or.WithOwnerStatus(svc, "absent")},
				{"identities whose owner left", or.WithOwnerStatus(nil, "departed")},
				{"keys older than 90 days", or.CredentialsOlderThan(now, 90)},
				{"credentials expiring in 14 days", or.CredentialsExpiringWithin(now, 14)},
			}
			for _, tt := range tests {
				got := ids(tt.q)
				if len(tt.want) == 0 {
					t.Errorf("%q: oracle found nothing; the demo should contain such cases", tt.q)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%q: executor %d rows, oracle %d; first diff %s", tt.q, len(got), len(tt.want), firstDiff(got, tt.want))
				}
			}
			// Count by source.
			p, _ := planner.Plan("count identities by source", nil)
			res, err := query.Execute(context.Background(), inv.Index(), p, now)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range res.Rows {
				got[r[0].(string)] = int(r[1].(float64))
			}
			if want := or.CountBySourceType(); !reflect.DeepEqual(got, want) {
				t.Errorf("count by source: %v, oracle %v", got, want)
			}
			// Reach from an identity with admin through a group or role.
			for _, id := range or.AdminsIdle(now, 30)[:3] {
				p := &query.Plan{Version: query.Version, Reach: &query.Reach{From: id}, Limit: query.MaxLimit}
				res, err := query.Execute(context.Background(), inv.Index(), p, now)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for ri := range res.Rows {
					ev := res.Evidence[ri]
					gr := ev[len(ev)-1]
					got = append(got, fmt.Sprintf("%s|%v|%v|%s", gr.From, str(gr.Props["action"]), str(gr.Props["resource"]), gr.To))
				}
				sort.Strings(got)
				got = uniq(got)
				if want := or.Reach(id, query.DefaultMaxDepth); !reflect.DeepEqual(got, want) {
					t.Errorf("reach %s: %v, oracle %v", id, got, want)
				}
			}
		})
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func uniq(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func firstDiff(a, b []string) string {
	am, bm := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		am[x] = true
	}
	for _, x := range b {
		bm[x] = true
	}
	for _, x := range a {
		if !bm[x] {
			return "executor-only " + x
		}
	}
	for _, x := range b {
		if !am[x] {
			return "oracle-only " + x
		}
	}
	return "(order)"
}
