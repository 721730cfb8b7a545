//go:build linux

package pgtest

import "syscall"

// serverProcAttr runs the postmaster as cred in its own process group. If
// the test binary is killed the kernel tells the postmaster (SIGQUIT =
// immediate shutdown), so no server is left behind.
func serverProcAttr(cred *syscall.Credential) (*syscall.SysProcAttr, error) {
	return &syscall.SysProcAttr{
		Credential: cred,
		Pdeathsig:  syscall.SIGQUIT,
		Setpgid:    true,
	}, nil
}
