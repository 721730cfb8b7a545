package cli

import (
	"fmt"
	"time"
)

// progress draws one updating status line on a terminal and nothing
// elsewhere, so piped output stays clean.
type progress struct {
	e     *env
	label string
	drawn bool
}

func newProgress(e *env, label string) *progress { return &progress{e: e, label: label} }

func (p *progress) update(format string, args ...any) {
	if !p.e.stderrTerminal {
		return
	}
	fmt.Fprintf(p.e.stderr, "\r\033[K%s: %s", p.label, fmt.Sprintf(format, args...))
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.e.stderr, "\r\033[K")
	}
}

// eta formats how far a long step is (done of total units), its rate
// since start and the time left at that rate; total <= 0 when unknown
// gives no ETA.
func eta(done, total int64, unit string, start time.Time) string {
	el := time.Since(start)
	s := max(el.Seconds(), 1e-3)
	r := float64(done) / s
	out := fmt.Sprintf("%d %s, %.0f %s/s, %s elapsed", done, unit, r, unit, el.Round(time.Second))
	if total > 0 && done > 0 && done <= total {
		left := time.Duration(float64(total-done) / r * float64(time.Second))
		out = fmt.Sprintf("%d%% (%d of %d %s), %.0f %s/s, %s elapsed, ETA %s", done*100/total, done, total, unit, r, unit, el.Round(time.Second), left.Round(time.Second))
	}
	return out
}
