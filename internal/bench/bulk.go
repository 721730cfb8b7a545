package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/steward-oss/steward/graph"
)

// BulkReport is a bulk load as the user runs it, each a fresh process
// on an empty bolt store: `steward load graph --from EXPORT` of the
// demo's export (the same rows the SQL baseline copies) and `steward demo
// --size N --out`. Wall time and peak RSS are the kernel's (GNU time).
type BulkReport struct {
	ExportBytes int64
	ExportLines int
	Load, Demo  Timed
	// LoadRatio is Load's wall time over the SQL baseline's COPY +
	// indexes + ANALYZE of the same rows, when SQL ran.
	LoadRatio float64
}

// Timed is one measured child process.
type Timed struct {
	Command string
	Wall    time.Duration
	MaxRSS  int64 // bytes; 0 without GNU time
}

// bulkLoads writes sgs as the JSON-lines export into a temporary
// directory and times the two bulk loads of steward into fresh stores
// there; demo is skipped when size is 0.
func bulkLoads(ctx context.Context, steward string, sgs []*graph.Subgraph, size int, seed int64) (*BulkReport, error) {
	dir, err := os.MkdirTemp("", "steward-bench-bulk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	export := filepath.Join(dir, "export.jsonl")
	f, err := os.Create(export)
	if err != nil {
		return nil, err
	}
	cw := &countWriter{w: f}
	werr := graph.WriteJSONL(cw, sgs)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("bench: write export: %w", werr)
	}
	r := &BulkReport{ExportBytes: cw.n, ExportLines: cw.lines}
	// The load's audit record goes beside the graph, inside dir.
	if r.Load, err = timed(ctx, steward, "load", "graph", "--from", export, "--graph", filepath.Join(dir, "load.db")); err != nil {
		return nil, err
	}
	if size > 0 {
		if r.Demo, err = timed(ctx, steward, "demo", "--size", strconv.Itoa(size), "--seed", strconv.FormatInt(seed, 10), "--out", filepath.Join(dir, "demo.db")); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// timed runs steward with args as a fresh process and reports its wall
// time and, through GNU time, its own peak RSS. (The kernel's peak RSS
// of a child started by os/exec counts the parent's memory at exec
// time; GNU time reports the child's own.)
func timed(ctx context.Context, steward string, args ...string) (Timed, error) {
	t := Timed{Command: "steward " + strings.Join(args, " ")}
	argv := append([]string{steward}, args...)
	gnuTime, _ := exec.LookPath("/usr/bin/time")
	rssFile := filepath.Join(os.TempDir(), fmt.Sprintf("steward-bench-rss-%d", os.Getpid()))
	defer os.Remove(rssFile)
	if gnuTime != "" {
		argv = append([]string{gnuTime, "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "STEWARD_AUDIT_LOG=", "STEWARD_CONFIG=")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	t.Wall = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("bench: %s: %w: %s", t.Command, err, errb.String())
	}
	if gnuTime != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return t, fmt.Errorf("bench: %s: %w", gnuTime, err)
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return t, fmt.Errorf("bench: %s output %q: %w", gnuTime, b, err)
		}
		t.MaxRSS = kb * 1024
	}
	return t, nil
}

// countWriter counts the bytes and lines written through it.
type countWriter struct {
	w     io.Writer
	n     int64
	lines int
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.lines += bytes.Count(p[:n], []byte("\n"))
	return n, err
}
