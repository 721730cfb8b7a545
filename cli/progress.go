package cli

import "fmt"

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
