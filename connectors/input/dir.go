package input

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Dir lists the files directly in dir that accept takes (by name), sorted.
// Every other file is an error that names it: a file accept does not take,
// a link that cannot be followed, a file that cannot be opened, a device.
// A part of a source left out silently would load as if it were not there.
// Not read, by rule rather than by accident: subdirectories (an export is
// flat) unless named like an export file (a "roles.json" directory is an
// error), names starting with "." (.DS_Store, editor swap files) and
// documentation kept beside an export (*.md, *.txt: README, SOURCES,
// LICENSE).
func Dir(dir string, accept func(name string) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("input: read directory %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		if ignored(e.Name()) || (e.IsDir() && !accept(e.Name())) {
			continue // a directory named like an export is an error below
		}
		p := filepath.Join(dir, e.Name())
		if err := entry(p, accept, false); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return nonEmpty(dir, files)
}

// Walk is Dir for a tree: subdirectories are read too (CloudTrail's
// AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/ layout).
func Walk(dir string, accept func(name string) bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "cannot be read: " + err.Error()}
		}
		if p == dir {
			return nil
		}
		if ignored(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if accept(d.Name()) {
				return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "a directory named like an export file"}
			}
			return nil
		}
		if err := entry(p, accept, true); err != nil {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return nonEmpty(dir, files)
}

// ignored reports names that are never part of an export.
func ignored(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".md") || strings.HasSuffix(n, ".txt")
}

func entry(p string, accept func(string) bool, tree bool) error {
	st, err := os.Stat(p) // follows links: a link to a file is a file
	switch {
	case err != nil:
		return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "cannot be read: " + err.Error()}
	case st.IsDir() && !tree:
		return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "a subdirectory (only files directly in the directory are read)"}
	case !st.Mode().IsRegular():
		return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "not a regular file"}
	case !accept(filepath.Base(p)):
		return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "not a file this connector reads (move it out of the directory)"}
	}
	f, err := os.Open(p)
	if err != nil {
		return &Error{File: p, Offset: -1, Err: ErrUnrecognised, Detail: "cannot be read: " + err.Error()}
	}
	return f.Close()
}

func nonEmpty(dir string, files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, &Error{File: dir, Offset: -1, Err: ErrEmpty, Detail: "no files to read in the directory"}
	}
	return files, nil
}

// Ext returns an accept function for names ending in one of exts
// (case-insensitive, with the dot: ".json").
func Ext(exts ...string) func(string) bool {
	return func(name string) bool {
		n := strings.ToLower(name)
		for _, e := range exts {
			if strings.HasSuffix(n, e) {
				return true
			}
		}
		return false
	}
}

// Empty is the error for a file that parsed but yielded no record: the
// wrong export given to a connector (an AWS credential report where
// authorization details were expected) must not load as an empty source.
func Empty(file, want string) error {
	return &Error{File: file, Offset: -1, Err: ErrEmpty, Detail: "no " + want + " found (is it the right export?)"}
}

// Dropped counts records a connector read but could not use, by reason,
// so the load summary can report them instead of losing them silently.
type Dropped struct {
	counts map[string]int
	first  map[string]string
}

// Add counts one record dropped for reason; where (file:line, event id)
// is kept for the first one of each reason.
func (d *Dropped) Add(reason, where string) {
	if d.counts == nil {
		d.counts, d.first = map[string]int{}, map[string]string{}
	}
	if d.counts[reason] == 0 {
		d.first[reason] = where
	}
	d.counts[reason]++
}

// Total is the number of dropped records.
func (d *Dropped) Total() int {
	n := 0
	for _, c := range d.counts {
		n += c
	}
	return n
}

// String is a one-line report: "3 dropped: 2 malformed ARN (first at
// x.json event 5); 1 ...".
func (d *Dropped) String() string {
	if d.Total() == 0 {
		return ""
	}
	reasons := slices.Sorted(maps.Keys(d.counts))
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s (first: %s)", d.counts[r], r, d.first[r])
	}
	return fmt.Sprintf("%d record(s) dropped: %s", d.Total(), strings.Join(parts, "; "))
}
