package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freshAsk runs `steward ask` reps times, each a new process, and
// reports wall time and peak RSS as the kernel saw them. The first run
// is a warm-up (it may rebuild a stale snapshot) and is not counted.
func freshAsk(ctx context.Context, steward, graphPath string, now time.Time, reps int) (*FreshReport, error) {
	f := &FreshReport{Graph: graphPath, Question: AskQuestion}
	// The kernel's peak RSS of a child started by os/exec (vfork) counts
	// the parent's memory at exec time; GNU time reports the child's own.
	gnuTime, _ := exec.LookPath("/usr/bin/time")
	rssFile := filepath.Join(os.TempDir(), fmt.Sprintf("steward-bench-rss-%d", os.Getpid()))
	defer os.Remove(rssFile)
	for i := 0; i <= reps; i++ {
		args := []string{steward, "ask", "--graph", graphPath, "--now", now.Format(time.RFC3339), "--format", "json", AskQuestion}
		if gnuTime != "" {
			args = append([]string{gnuTime, "-f", "%M", "-o", rssFile}, args...)
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t := time.Now()
		err := cmd.Run()
		d := time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("bench: %s ask: %w: %s", steward, err, errb.String())
		}
		if i == 0 {
			var ans struct {
				Rows  [][]any `json:"rows"`
				Total int     `json:"total"`
			}
			if err := json.Unmarshal(out.Bytes(), &ans); err != nil {
				return nil, fmt.Errorf("bench: ask output: %w", err)
			}
			for _, r := range ans.Rows {
				if id, ok := r[0].(string); ok && len(r) > 0 {
					f.ids = append(f.ids, id)
				}
			}
			f.Rows = ans.Total
			continue
		}
		f.Runs = append(f.Runs, d)
		if gnuTime != "" {
			b, err := os.ReadFile(rssFile)
			if err != nil {
				return nil, fmt.Errorf("bench: %s: %w", gnuTime, err)
			}
			kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bench: %s output %q: %w", gnuTime, b, err)
			}
			f.MaxRSS = max(f.MaxRSS, kb*1024)
		}
	}
	s := slices.Clone(f.Runs)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	f.P50 = s[len(s)/2]
	return f, nil
}

// peakRSS is this process's peak resident set size in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
