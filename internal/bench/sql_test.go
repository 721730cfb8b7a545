package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/steward-oss/steward/internal/demo"
	"github.com/steward-oss/steward/internal/oracle"
	"github.com/steward-oss/steward/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSQLAgrees checks the PostgreSQL baseline answers exactly what the
// plain scan and Steward answer, so the timing ratios compare like with
// like.
func TestSQLAgrees(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{300, 2000} {
		db, err := sql.Open("postgres", pgtest.Start(t).CreateDB(t, "bench"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sgs := demo.Generate(demo.Config{Seed: 1, Size: size})
		o := oracle.New(sgs)
		b, err := LoadSQL(ctx, db, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, days := range []int{30, 90} {
			got, err := b.AdminsIdle(ctx, demo.Reference, days)
			if err != nil {
				t.Fatal(err)
			}
			want := o.AdminsIdle(demo.Reference, float64(days))
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("size %d, %d days: sql %d rows, scan %d rows", size, days, len(got), len(want))
			}
		}
	}
}

// BenchmarkCompare prints, per size, one full report: load rate and peak
// RSS, in-process question latency (what `serve` pays), the plain scan,
// and the PostgreSQL baseline (COPY + indexes, recursive SQL) of the
// same data, as ratios. With STEWARD_BIN (a steward binary) and
// STEWARD_ASK_GRAPH (a bolt store written by `steward demo --size N
// --out`, for the one size run) it also times `steward ask` as fresh
// processes on the stored graph. With STEWARD_BIN and STEWARD_BULK=1 it
// also times the bulk loads as fresh processes (`steward load graph` of
// the demo's export, `steward demo --out`): wall time, peak RSS, and the
// load over the PostgreSQL COPY + indexes of the same rows. Run one size
// at a time:
//
//	go test -run X -bench 'Compare/size=100000' -benchtime 1x ./internal/bench/
func BenchmarkCompare(b *testing.B) {
	ctx := context.Background()
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			db, err := sql.Open("postgres", pgtest.Start(b).CreateDB(b, "compare"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for range b.N {
				o := Options{Size: size, Seed: 1, StoreURI: "none", Reps: 5, SQL: db,
					Steward: os.Getenv("STEWARD_BIN"), AskGraph: os.Getenv("STEWARD_ASK_GRAPH"), Bulk: os.Getenv("STEWARD_BULK") == "1"}
				r, err := RunWith(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				var out strings.Builder
				r.Print(&out)
				b.Log("\n" + out.String())
				if f := r.Fresh; f != nil && !f.SameRows {
					b.Fatalf("fresh ask: %d rows, not the SQL baseline's", f.Rows)
				}
				for _, q := range r.Questions {
					if q.SQL > 0 && q.SQLRows != q.Rows {
						b.Fatalf("%s: steward %d rows, SQL %d", q.Text, q.Rows, q.SQLRows)
					}
				}
			}
		})
	}
}
