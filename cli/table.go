package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"
)

// tableStyle is how a table is drawn on the writer it goes to: colour
// and the terminal's width only on a terminal (and NO_COLOR turns colour
// off, https://no-color.org), so piped output stays plain text.
type tableStyle struct {
	wide      bool // every cell whole, whatever the width
	noHeaders bool // neither header nor row-count footer
	color     bool
	width     int // columns available; 0 means unlimited
}

// styleFor decides colour and width for w: colour when w is a terminal,
// NO_COLOR is unset or empty and TERM is not "dumb"; width from COLUMNS
// when set, else the terminal's own size, else unlimited.
func styleFor(w io.Writer, terminal func(io.Writer) bool, getenv func(string) string) tableStyle {
	tty := terminal(w)
	st := tableStyle{color: tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		st.width = n
	} else if tty {
		st.width = terminalWidth(w)
	}
	return st
}

// terminalWidth asks the terminal behind w for its width (0 if unknown).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// minColumn is the narrowest a column is squeezed to when fitting a
// table to the terminal.
const minColumn = 16

// renderTable writes header and rows as aligned columns two spaces apart.
// Unless st.wide, cells are shortened (head…tail) so that each is at most
// maxCell wide and, when st.width is known, the widest columns give way
// until the table fits the terminal; when even their narrowest does not
// fit, the rightmost columns are left out and their number returned.
func renderTable(w io.Writer, header []string, rows [][]string, st tableStyle) (hidden int, err error) {
	header, rows = escapeCells(header), append([][]string(nil), rows...)
	for i, r := range rows {
		rows[i] = escapeCells(r)
	}
	n := len(header)
	widths := make([]int, n)
	floor := make([]int, n)
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i := 0; i < n && i < len(r); i++ {
			c := utf8.RuneCountInString(r[i])
			if !st.wide {
				c = min(c, maxCell)
			}
			widths[i] = max(widths[i], c)
		}
	}
	for i, h := range header {
		floor[i] = max(utf8.RuneCountInString(h), min(widths[i], minColumn), 3)
	}
	if !st.wide && st.width > 0 {
		for n > 1 && sumWidths(floor[:n]) > st.width {
			n--
		}
		hidden = len(header) - n
		widths, floor = widths[:n], floor[:n]
		fit(widths, floor, st.width)
	}
	line := func(cells []string, bold bool) error {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if !st.wide {
				c = shorten(c, widths[i])
			}
			if i < n-1 {
				c += strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(c), 0)+2)
			}
			b.WriteString(c)
		}
		s := strings.TrimRight(b.String(), " ")
		if bold {
			s = "\x1b[1m" + s + "\x1b[0m"
		}
		_, err := fmt.Fprintln(w, s)
		return err
	}
	if !st.noHeaders {
		if err := line(header, st.color); err != nil {
			return hidden, err
		}
	}
	for _, r := range rows {
		if err := line(r, false); err != nil {
			return hidden, err
		}
	}
	return hidden, nil
}

// sumWidths is the width of columns ws with their two-space gaps.
func sumWidths(ws []int) int {
	sum := 2 * (len(ws) - 1)
	for _, w := range ws {
		sum += w
	}
	return sum
}

// fit narrows the widest columns, never below floor, until the columns
// and their two-space gaps fit in total.
func fit(widths, floor []int, total int) {
	for sum := sumWidths(widths); sum > total; sum-- {
		widest := -1
		for i, w := range widths {
			if w > floor[i] && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			return // as narrow as it goes; the terminal wraps the rest
		}
		widths[widest]--
	}
}

// writeYAML writes v as YAML through its JSON encoding, so the YAML keys
// are the JSON contract's field names.
func writeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
