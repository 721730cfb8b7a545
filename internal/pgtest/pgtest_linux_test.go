//go:build linux

package pgtest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestServerDiesWithTestBinary SIGKILLs a test binary that started a
// server and checks the postmaster goes too (Pdeathsig), so a killed
// `go test` leaves no server behind. It waits on a pidfd for the exit, not
// on a timer.
func TestServerDiesWithTestBinary(t *testing.T) {
	if os.Getenv("PGTEST_DEATH_CHILD") == "1" {
		s := Start(t)
		fmt.Fprintf(os.NewFile(3, "report"), "%d %s\n", s.cmd.Process.Pid, s.dir)
		io.Copy(io.Discard, os.Stdin) // until the parent kills us
		return
	}
	Start(t) // skips like every other test when there is no server

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithTestBinary$")
	cmd.Env = append(os.Environ(), "PGTEST_DEATH_CHILD=1")
	cmd.ExtraFiles = []*os.File{w}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var pid int
	var dir string
	if _, err := fmt.Fscan(r, &pid, &dir); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child reported no server (%v); output:\n%s", err, out.String())
	}
	defer os.RemoveAll(dir) // the killed child could not clean up
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	defer unix.Close(pidfd)

	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(time.Minute/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll pidfd: %v", err)
		}
		if n == 0 {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postmaster %d still running a minute after its test binary was killed", pid)
		}
		return
	}
}
