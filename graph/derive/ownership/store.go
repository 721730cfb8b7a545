package ownership

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Override is an analyst's correction: Identity (a node id) is owned by
// the person with OwnerEmail. Overrides outrank every inferred hint and are
// re-applied on every rebuild, so a correction survives re-syncs.
type Override struct {
	Identity   string    `json:"identity"`
	OwnerEmail string    `json:"owner_email"`
	SetBy      string    `json:"set_by"`
	SetAt      time.Time `json:"set_at"`
	Reason     string    `json:"reason,omitempty"`
}

// Validate reports the first missing field.
func (o Override) Validate() error {
	switch {
	case strings.TrimSpace(o.Identity) == "":
		return errors.New("ownership: override: identity is empty")
	case !strings.Contains(o.OwnerEmail, "@"):
		return fmt.Errorf("ownership: override %q: owner_email %q is not an e-mail address", o.Identity, o.OwnerEmail)
	case strings.TrimSpace(o.SetBy) == "":
		return fmt.Errorf("ownership: override %q: set_by is empty", o.Identity)
	case o.SetAt.IsZero():
		return fmt.Errorf("ownership: override %q: set_at is empty", o.Identity)
	}
	return nil
}

// Store keeps overrides in one JSON file. Every change rewrites the file
// through a temporary file and a rename, so a crash leaves either the old
// or the new list, never a torn one.
type Store struct {
	path string
	mu   sync.Mutex
}

// NewStore returns a store backed by path; the file need not exist yet.
func NewStore(path string) *Store { return &Store{path: path} }

type storeFile struct {
	Overrides []Override `json:"overrides"`
}

// List returns every override, sorted by identity then owner.
func (s *Store) List() ([]Override, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// Set adds o, replacing any override for the same identity: one identity
// has one analyst-set owner at a time.
func (s *Store) Set(o Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.OwnerEmail = strings.ToLower(o.OwnerEmail)
	o.SetAt = o.SetAt.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return err
	}
	out := all[:0]
	for _, x := range all {
		if x.Identity != o.Identity {
			out = append(out, x)
		}
	}
	return s.save(append(out, o))
}

// Delete removes the override for identity; it reports whether one existed.
func (s *Store) Delete(identity string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return false, err
	}
	out := all[:0]
	for _, x := range all {
		if x.Identity != identity {
			out = append(out, x)
		}
	}
	if len(out) == len(all) {
		return false, nil
	}
	return true, s.save(out)
}

func (s *Store) load() ([]Override, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ownership: read overrides: %w", err)
	}
	var f storeFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("ownership: parse overrides %s: %w", s.path, err)
	}
	for i, o := range f.Overrides {
		if err := o.Validate(); err != nil {
			return nil, fmt.Errorf("ownership: overrides %s: overrides[%d]: %w", s.path, i, err)
		}
	}
	sortOverrides(f.Overrides)
	return f.Overrides, nil
}

func (s *Store) save(all []Override) error {
	sortOverrides(all)
	if all == nil {
		all = []Override{}
	}
	data, err := json.MarshalIndent(storeFile{Overrides: all}, "", "  ")
	if err != nil {
		return fmt.Errorf("ownership: encode overrides: %w", err)
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".overrides-*.tmp")
	if err != nil {
		return fmt.Errorf("ownership: write overrides: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("ownership: write overrides: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ownership: sync overrides: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ownership: write overrides: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("ownership: replace overrides: %w", err)
	}
	// Persist the rename itself; without this a power loss can bring back
	// the old directory entry.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func sortOverrides(all []Override) {
	sort.Slice(all, func(i, j int) bool {
		if all[i].Identity != all[j].Identity {
			return all[i].Identity < all[j].Identity
		}
		return all[i].OwnerEmail < all[j].OwnerEmail
	})
}
