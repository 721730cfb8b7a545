package input

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	write := func(dir string, names ...string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("[]"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	write(dir, "users.json", "users.page3.json", "users.page2.json", "users.pageX.json", "apps.page2.json", "keys.json", "keys.page3.json")
	got, err := Pages(filepath.Join(dir, "users.json"))
	want := []string{filepath.Join(dir, "users.json"), filepath.Join(dir, "users.page2.json"), filepath.Join(dir, "users.page3.json")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("users: %v, %v; want %v", got, err, want)
	}
	if got, err := Pages(filepath.Join(dir, "groups.json")); got != nil || err != nil {
		t.Errorf("absent: %v, %v", got, err)
	}
	for name, msg := range map[string]string{"apps.json": "page 1 missing", "keys.json": "page 2 missing before page 3"} {
		if _, err := Pages(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: err %v, want %q", name, err, msg)
		}
	}
}
