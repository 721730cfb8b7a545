package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cayleygraph/cayley/clog"

	"github.com/steward-oss/steward/internal/secret"
)

// cayley logs through its own global logger (clog), to the standard log
// package by default, and some of its messages carry the connection
// string, password included ("Couldn't open database at postgres://...").
// Every error it logs is also returned to the store, which wraps and
// returns it, so its log lines are only debugging detail. On first use
// the store routes clog to slog at debug level, with URL passwords and
// password= parameters masked.
var installCayleyLog sync.Once

func routeCayleyLog() {
	installCayleyLog.Do(func() { clog.SetLogger(cayleyLog{}) })
}

// cayleyLog implements clog.Logger over slog.
type cayleyLog struct{}

func (cayleyLog) log(level slog.Level, format string, args []any) {
	slog.Default().Log(context.Background(), level, secret.MaskDSN(fmt.Sprintf(format, args...)), "component", "cayley")
}

func (l cayleyLog) Infof(format string, args ...any)    { l.log(slog.LevelDebug, format, args) }
func (l cayleyLog) Warningf(format string, args ...any) { l.log(slog.LevelDebug, format, args) }
func (l cayleyLog) Errorf(format string, args ...any)   { l.log(slog.LevelDebug, format, args) }

// Fatalf is never called by the cayley packages the store uses; if it
// were, logging is all a library should do.
func (l cayleyLog) Fatalf(format string, args ...any) { l.log(slog.LevelError, format, args) }
func (cayleyLog) V(int) bool                          { return false }
func (cayleyLog) SetV(int)                            {}
