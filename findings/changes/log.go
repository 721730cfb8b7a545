package changes

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/steward-oss/steward/graph"
)

// Sync is one recorded sync: when it ran and how many changes it found.
// The first sync of a history is the baseline and finds none. Its JSON
// (a line of syncs.jsonl) is a contract: fields are only added.
type Sync struct {
	At       time.Time `json:"at"`
	Changes  int       `json:"changes"`
	Baseline bool      `json:"baseline,omitempty"`
}

// Log is a change history as its readers see it: the syncs recorded and
// the changes they found, oldest first. A log with no syncs means no
// history has been recorded yet, which is not the same as syncs that
// found nothing.
type Log struct {
	Syncs   []Sync   `json:"syncs"`
	Changes []Change `json:"changes"`
}

// Recorded reports whether any sync has been recorded.
func (l *Log) Recorded() bool { return len(l.Syncs) > 0 }

// Last is the most recent sync (zero without one).
func (l *Log) Last() Sync {
	if len(l.Syncs) == 0 {
		return Sync{}
	}
	return l.Syncs[len(l.Syncs)-1]
}

// ChangeLog returns l itself: a log in memory is its own history.
func (l *Log) ChangeLog(context.Context) (*Log, error) { return l, nil }

// Dir is a change history directory, as Tracker writes it; it reads the
// whole log on every call, so a reader sees each sync as it is recorded.
type Dir string

// ChangeLog reads the history kept in d.
func (d Dir) ChangeLog(context.Context) (*Log, error) { return Read(string(d)) }

// Read reads the history kept in dir: a missing directory or one without
// any file is an empty log (nothing recorded yet). Histories written
// before syncs.jsonl existed get their syncs from the changes' time
// stamps and the last snapshot's.
func Read(dir string) (*Log, error) {
	cs, err := History(dir, time.Time{})
	if err != nil {
		return nil, err
	}
	l := &Log{Changes: cs}
	path := filepath.Join(dir, "syncs.jsonl")
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return l, l.fromSnapshot(dir)
	case err != nil:
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var s Sync
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("changes: %s:%d: %w", path, line, err)
		}
		l.Syncs = append(l.Syncs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("changes: %s: %w", path, err)
	}
	return l, nil
}

// fromSnapshot rebuilds the syncs of an older history: one per distinct
// change time, and the last snapshot's (which may have found nothing).
func (l *Log) fromSnapshot(dir string) error {
	t := &Tracker{Dir: dir}
	snap, err := t.loadSnapshot()
	if err != nil {
		return err
	}
	count := map[time.Time]int{}
	for _, c := range l.Changes {
		count[c.At]++
	}
	if snap != nil {
		if _, ok := count[snap.At]; !ok {
			count[snap.At] = 0
		}
	}
	for at, n := range count {
		l.Syncs = append(l.Syncs, Sync{At: at, Changes: n})
	}
	sort.Slice(l.Syncs, func(i, j int) bool { return l.Syncs[i].At.Before(l.Syncs[j].At) })
	return nil
}

func (t *Tracker) appendSync(s Sync) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(t.Dir, "syncs.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("changes: %w", err)
	}
	return f.Close()
}

// Point is one sync of a replayed history: the graph it loaded, and when.
type Point struct {
	At    time.Time
	Index *graph.Index
}

// Replay is the log a Tracker would have recorded for these syncs, in
// order, without writing anything: the first is the baseline. It gives
// a fixed history (the demo's) to read as a recorded one is read.
func Replay(points []Point) *Log {
	l := &Log{Changes: []Change{}}
	var prev *Snapshot
	for _, p := range points {
		cur := Take(p.Index, p.At)
		s := Sync{At: cur.At, Baseline: prev == nil}
		if prev != nil {
			d := Diff(prev, cur)
			s.Changes = len(d)
			l.Changes = append(l.Changes, d...)
		}
		l.Syncs = append(l.Syncs, s)
		prev = cur
	}
	return l
}
