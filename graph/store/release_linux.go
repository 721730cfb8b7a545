//go:build linux

package store

import (
	"os"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops the pages of db's memory map from this process's
// resident set. Bolt reads through a read-only shared file mapping and
// writes with pwrite, so a page dropped here is only unmapped: the next
// read faults it back in from the page cache, unchanged. A bulk load
// touches most of a file that grows to gigabytes; without this every
// page read while indexing one batch stays resident until the end.
func releaseMapped(db *bolt.DB, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	n := uintptr(fi.Size()) &^ uintptr(os.Getpagesize()-1)
	if n == 0 {
		return
	}
	// Advice only: a failure leaves the pages resident, nothing else.
	syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, n, syscall.MADV_DONTNEED)
}
