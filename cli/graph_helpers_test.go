package cli

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/steward-oss/steward/graph/inventory"
)

// openGraph validates g and opens its graph as a command would, quietly;
// the inventory is closed when the test ends.
func openGraph(t *testing.T, g graphFlags) *inventory.Inventory {
	t.Helper()
	if err := g.validate(); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	inv, err := g.open(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}
