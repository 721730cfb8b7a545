package github

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/steward-oss/steward/connectors/input"

	gh "github.com/google/go-github/v82/github"
)

// Export is everything read from one organization, in go-github's types.
type Export struct {
	Org           *gh.Organization
	Installations []*gh.Installation
	Repos         []*gh.Repository
	Keys          map[string][]*gh.Key // repo name -> deploy keys
	PATs          []*gh.PersonalAccessToken
	CredAuths     []*gh.CredentialAuthorization
	Secrets       []*gh.Secret
	Outside       []*gh.User
	// Skipped names endpoints the live API refused as unavailable to this
	// org or token (credential authorizations outside Enterprise Cloud,
	// PATs without a GitHub App token), so the gap is visible in the graph.
	Skipped []string
	// Unrecognised names the JSON files of the directory that are none of
	// the recorded responses nor a known webhook payload: skipped, and
	// reported as warnings.
	Unrecognised []string
}

// Recorded response files, relative to the export directory. Page N > 1
// of "x.json" is "x.pageN.json".
const (
	fileOrg           = "org.json"                       // GET /orgs/{org}
	fileInstallations = "installations.json"             // GET /orgs/{org}/installations
	fileRepos         = "repos.json"                     // GET /orgs/{org}/repos
	dirKeys           = "keys"                           // keys/<repo>.json: GET /repos/{org}/{repo}/keys
	filePATs          = "personal-access-tokens.json"    // GET /orgs/{org}/personal-access-tokens
	fileCredAuths     = "credential-authorizations.json" // GET /orgs/{org}/credential-authorizations
	fileSecrets       = "actions-secrets.json"           // GET /orgs/{org}/actions/secrets
	fileOutside       = "outside-collaborators.json"     // GET /orgs/{org}/outside_collaborators
	dirWebhooks       = "webhooks"                       // webhooks/*.json: webhook payloads as delivered
)

// LoadDir reads a directory of recorded responses. Every file is optional
// (an export may cover only some endpoints), but the directory must hold
// at least one, and any file present must parse.
func LoadDir(dir string) (*Export, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("github: export dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("github: export %s is not a directory", dir)
	}
	ex := &Export{Keys: map[string][]*gh.Key{}}
	found := 0
	load := func(name string, each func(path string, data []byte) error) error {
		pages, err := pageFiles(dir, name)
		if err != nil {
			return err
		}
		for _, p := range pages {
			data, err := input.ReadFile(p, input.JSON)
			if err != nil {
				return fmt.Errorf("github: %w", err)
			}
			if err := each(p, data); err != nil {
				return err
			}
			found++
		}
		return nil
	}
	steps := []struct {
		name string
		each func(path string, data []byte) error
	}{
		{fileOrg, func(p string, d []byte) error { return decode(p, d, &ex.Org) }},
		{fileInstallations, func(p string, d []byte) error {
			// `gh api --paginate` writes the pages' objects back to back.
			return eachValue(p, d, func(v []byte) error {
				var page struct {
					Installations []json.RawMessage `json:"installations"`
				}
				if err := decode(p, v, &page); err != nil {
					return err
				}
				return decodeItems(p, "installations", page.Installations, &ex.Installations)
			})
		}},
		{fileRepos, func(p string, d []byte) error { return appendPage(p, d, &ex.Repos) }},
		{filePATs, func(p string, d []byte) error { return appendPage(p, d, &ex.PATs) }},
		{fileCredAuths, func(p string, d []byte) error { return appendPage(p, d, &ex.CredAuths) }},
		{fileSecrets, func(p string, d []byte) error {
			return eachValue(p, d, func(v []byte) error {
				var page struct {
					Secrets []json.RawMessage `json:"secrets"`
				}
				if err := decode(p, v, &page); err != nil {
					return err
				}
				return decodeItems(p, "secrets", page.Secrets, &ex.Secrets)
			})
		}},
		{fileOutside, func(p string, d []byte) error { return appendPage(p, d, &ex.Outside) }},
	}
	for _, s := range steps {
		if err := load(s.name, s.each); err != nil {
			return nil, err
		}
	}
	keyFiles, err := filepath.Glob(filepath.Join(dir, dirKeys, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	repos := map[string]bool{}
	for _, f := range keyFiles {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		if m := pageRE.FindStringSubmatch(filepath.Base(f)); m != nil {
			base = m[1]
		}
		repos[base] = true
	}
	for _, repo := range slices.Sorted(maps.Keys(repos)) {
		if err := load(filepath.Join(dirKeys, repo+".json"), func(p string, d []byte) error {
			var keys []*gh.Key
			if err := appendPage(p, d, &keys); err != nil {
				return err
			}
			ex.Keys[repo] = append(ex.Keys[repo], keys...)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	n, err := loadWebhooks(filepath.Join(dir, dirWebhooks), ex)
	if err != nil {
		return nil, err
	}
	found += n
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("github: export dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		if m := pageRE.FindStringSubmatch(name); m != nil {
			name = m[1] + ".json"
		}
		known := false
		for _, s := range steps {
			known = known || s.name == name
		}
		if !known {
			ex.Unrecognised = append(ex.Unrecognised, filepath.Join(dir, e.Name()))
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("github: export dir %s holds none of the recorded response files (see connectors/github/README.md)", dir)
	}
	return ex, nil
}

var pageRE = regexp.MustCompile(`^(.+)\.page([0-9]+)\.json$`)

// pageFiles returns name and its later pages in page order (see
// input.Pages).
func pageFiles(dir, name string) ([]string, error) {
	files, err := input.Pages(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return files, nil
}

// appendPage decodes a page that is a JSON array, or several arrays back
// to back as `gh api --paginate` writes them.
func appendPage[T any](path string, data []byte, dst *[]T) error {
	return eachValue(path, data, func(v []byte) error {
		var raws []json.RawMessage
		if err := decode(path, v, &raws); err != nil {
			return err
		}
		return decodeItems(path, "", raws, dst)
	})
}

// eachValue calls fn with each top-level JSON value of data: one for a
// recorded response, one per page for `gh api --paginate` output.
func eachValue(path string, data []byte, fn func([]byte) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		start := dec.InputOffset()
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Unmarshal of the rest names the syntax error and its place
			// (a truncated file is "unexpected end of JSON input").
			rest := data[start:]
			if uerr := json.Unmarshal(rest, &v); uerr != nil {
				err = uerr
			}
			if n > 0 {
				return fmt.Errorf("github: %s: JSON value %d: %w", path, n+1, describeJSON(rest, err))
			}
			return fmt.Errorf("github: %s: %w", path, describeJSON(rest, err))
		}
		if err := fn(v); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("github: %s: no JSON value", path)
	}
	return nil
}

// decodeItems decodes list elements one by one so an error names the
// element: "installations[3].app_id".
func decodeItems[T any](path, field string, raws []json.RawMessage, dst *[]T) error {
	for i, raw := range raws {
		var item T
		if err := json.Unmarshal(raw, &item); err != nil {
			at := fmt.Sprintf("%s[%d]", field, i)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				at += "." + te.Field
			} else {
				at += input.BadField[T](raw)
			}
			return fmt.Errorf("github: %s: at %s: %w", path, at, err)
		}
		*dst = append(*dst, item)
	}
	return nil
}

// decode unmarshals data, naming the file and the place of any error.
func decode(path string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("github: %s: %w", path, describeJSON(data, err))
	}
	return nil
}

// describeJSON turns a json error into "line L col C: ..." or "at
// <json path>: ...", the place an operator needs to fix the file.
func describeJSON(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := input.LineCol(data, se.Offset)
		return fmt.Errorf("line %d col %d: %w", line, col, err)
	case errors.As(err, &te):
		return fmt.Errorf("at %s: %w", te.Field, err)
	}
	return err
}
