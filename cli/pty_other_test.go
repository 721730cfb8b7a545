//go:build !linux

package cli

import (
	"os"
	"testing"
)

// openPTY needs Linux's /dev/ptmx and its TIOCSPTLCK/TIOCGPTN ioctls. On
// other systems the terminal tests fail, never skip: a skipped test would
// pass CI without exercising the terminal output.
func openPTY(t *testing.T, cols int) (tty *os.File, output func() string) {
	t.Helper()
	t.Fatalf("openPTY: the pseudo-terminal helper is Linux-only (/dev/ptmx, TIOCSPTLCK); run the terminal tests (%d columns) on Linux", cols)
	return nil, nil
}
