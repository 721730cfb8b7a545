//go:build !unix

package audit

import "os"

// lockFile is a no-op where flock is unavailable; run one Steward process
// per log there.
func lockFile(*os.File) error { return nil }
