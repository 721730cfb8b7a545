package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/input"
	"github.com/steward-oss/steward/internal/secret"

	"github.com/hashicorp/vault/api"
)

// backend answers the three kinds of calls the connector makes. A nil
// secret with a nil error means the path does not exist (Vault's 404).
type backend interface {
	read(ctx context.Context, path string) (*api.Secret, error)
	list(ctx context.Context, path string) (*api.Secret, error)
	lookupAccessor(ctx context.Context, accessor string) (*api.Secret, error)
}

// dirBackend reads recorded responses: the body of GET or LIST
// /v1/<path> is <dir>/<path>.json; the body of POST
// /v1/auth/token/lookup-accessor for accessor A is
// <dir>/auth/token/lookup-accessor/A.json.
type dirBackend string

func (d dirBackend) file(p string) (*api.Secret, error) {
	name := filepath.Join(string(d), filepath.FromSlash(strings.TrimSuffix(p, "/"))+".json")
	data, err := input.ReadFile(name, input.JSON)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	// Check syntax first so the error names the place; api.ParseSecret's
	// own errors do not.
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("vault: %s: %w", name, describeJSON(data, err))
	}
	if _, ok := probe.(map[string]any); !ok {
		return nil, fmt.Errorf("vault: %s: want a JSON object (a Vault response), got %T", name, probe)
	}
	s, err := api.ParseSecret(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w", name, err)
	}
	s.Warnings = append(s.Warnings, "file:"+name) // lets callers name the file in errors
	return s, nil
}

func (d dirBackend) read(_ context.Context, p string) (*api.Secret, error) { return d.file(p) }
func (d dirBackend) list(_ context.Context, p string) (*api.Secret, error) { return d.file(p) }
func (d dirBackend) lookupAccessor(_ context.Context, a string) (*api.Secret, error) {
	if strings.ContainsAny(a, `/\`) || a == ".." {
		return nil, fmt.Errorf("vault: accessor list holds a path-like entry")
	}
	return d.file("auth/token/lookup-accessor/" + a)
}

// liveBackend calls Vault through the official client. The token is set
// on the client only; it is never logged or put into an error.
type liveBackend struct{ c *api.Client }

func (r *Reader) client() (*liveBackend, error) {
	if r.env.ReadFile == nil {
		return nil, errors.New("vault: no ReadFile in connector env")
	}
	tok, err := connectors.ReadToken(r.env.ReadFile, r.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault: client config: %w", cfg.Error)
	}
	cfg.Address = r.Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: client: %w", err)
	}
	// vault/api reads VAULT_TOKEN, VAULT_NAMESPACE and VAULT_HEADERS from
	// the environment; Steward's configuration is the only input, so each
	// is overridden here.
	c.SetToken(tok)
	c.ClearNamespace()
	if r.Namespace != "" {
		c.SetNamespace(r.Namespace)
	}
	c.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	return &liveBackend{c: c}, nil
}

func (l *liveBackend) read(ctx context.Context, p string) (*api.Secret, error) {
	s, err := l.c.Logical().ReadWithContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", p, err)
	}
	return s, nil
}

func (l *liveBackend) list(ctx context.Context, p string) (*api.Secret, error) {
	s, err := l.c.Logical().ListWithContext(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("vault: list %s: %w", p, err)
	}
	return s, nil
}

func (l *liveBackend) lookupAccessor(ctx context.Context, a string) (*api.Secret, error) {
	s, err := l.c.Auth().Token().LookupAccessorWithContext(ctx, a)
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusBadRequest && strings.Contains(strings.Join(re.Errors, " "), "invalid accessor") {
		return nil, nil // expired between the list and the lookup
	}
	if err != nil {
		// The accessor is not a secret, but it is masked everywhere else.
		return nil, fmt.Errorf("vault: lookup-accessor %s: %w", secret.Mask(a), scrub(err, a))
	}
	return s, nil
}

// scrub removes s from err's text.
func scrub(err error, s string) error {
	if s == "" || !strings.Contains(err.Error(), s) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s, secret.Mask(s)))
}

// where names the origin of a secret for error messages.
func where(s *api.Secret, p string) string {
	for _, w := range s.Warnings {
		if strings.HasPrefix(w, "file:") {
			return strings.TrimPrefix(w, "file:")
		}
	}
	return p
}

// keys returns data.keys of a LIST response, sorted.
func keys(s *api.Secret, p string) ([]string, error) {
	if s == nil || s.Data == nil {
		return nil, nil
	}
	raw, ok := s.Data["keys"]
	if !ok {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("vault: %s: data.keys: want a list, got %T", where(s, p), raw)
	}
	out := make([]string, 0, len(arr))
	for i, k := range arr {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("vault: %s: data.keys[%d]: want a string, got %T", where(s, p), i, k)
		}
		out = append(out, ks)
	}
	sort.Strings(out)
	return out, nil
}

// describeJSON names the place of a JSON error without quoting the input.
func describeJSON(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := input.LineCol(data, se.Offset)
		return fmt.Errorf("line %d col %d: %w", line, col, err)
	}
	return err
}
