//go:build !linux

package pgtest

import (
	"fmt"
	"runtime"
	"syscall"
)

// serverProcAttr refuses to start the server outside Linux: without the
// parent-death signal (Pdeathsig, Linux only) a killed `go test` would
// leave a postmaster running. The test that asked for the server fails
// with this error; it does not skip.
func serverProcAttr(*syscall.Credential) (*syscall.SysProcAttr, error) {
	return nil, fmt.Errorf("pgtest: the test server needs Linux (parent-death signal Pdeathsig), not %s", runtime.GOOS)
}
