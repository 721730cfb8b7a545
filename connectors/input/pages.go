package input

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var pageRE = regexp.MustCompile(`\.page([0-9]+)\.json$`)

// Pages returns a recorded response file and its later pages, recorded
// next to it ("users.json", "users.page2.json", "users.page3.json"), in
// page order; nothing when first does not exist. Later pages without the
// first, or a gap in the numbering, are an error: a missing page would
// silently drop data.
func Pages(first string) ([]string, error) {
	more, err := filepath.Glob(strings.TrimSuffix(first, ".json") + ".page*.json")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(first); errors.Is(err, fs.ErrNotExist) {
		if len(more) > 0 {
			return nil, fmt.Errorf("%s: later pages present but page 1 missing", first)
		}
		return nil, nil
	}
	nums := map[int]string{}
	for _, m := range more {
		if sm := pageRE.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			nums[n] = m
		}
	}
	out := []string{first}
	for i, n := range slices.Sorted(maps.Keys(nums)) {
		if n != i+2 {
			return nil, fmt.Errorf("%s: page %d missing before page %d", first, i+2, n)
		}
		out = append(out, nums[n])
	}
	return out, nil
}
