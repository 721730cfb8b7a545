//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped is a no-op where the kernel's resident-set accounting of
// file mappings is not known to need it.
func releaseMapped(*bolt.DB, string) {}
