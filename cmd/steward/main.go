// Command steward governs non-human identities: it loads an identity
// graph from real sources, answers questions about it, and proposes
// remediation that humans approve. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/steward-oss/steward/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
