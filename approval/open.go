package approval

import (
	"context"
	"strings"
)

// OpenStore opens the store a configuration names: a postgres:// or
// postgresql:// URL opens a PGStore, anything else is a bbolt file path.
func OpenStore(ctx context.Context, where string) (Store, error) {
	if strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://") {
		return OpenPostgres(ctx, where)
	}
	return OpenBolt(where)
}
