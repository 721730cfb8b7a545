package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"
	crm "google.golang.org/api/cloudresourcemanager/v1"
	iam "google.golang.org/api/iam/v1"
)

// Target kinds of an IAM policy.
const (
	targetOrganization   = "organization"
	targetFolder         = "folder"
	targetProject        = "project"
	targetServiceAccount = "serviceAccount"
)

// policyTarget is the resource an IAM policy is set on. get-iam-policy output
// does not say which resource it came from, so for exports the file name
// says it (see README.md).
type policyTarget struct {
	kind string
	id   string // numeric org/folder id, project id, or service-account email
}

type policyRec struct {
	file   string
	target policyTarget
	policy *crm.Policy
}

type keyRec struct {
	file string
	key  *iam.ServiceAccountKey
}

// apiKey is one key of the API Keys API (apikeys.googleapis.com v2
// projects.locations.keys.list). keyString, the secret, is never read.
type apiKey struct {
	Name         string          `json:"name"`
	UID          string          `json:"uid"`
	DisplayName  string          `json:"displayName"`
	CreateTime   string          `json:"createTime"`
	UpdateTime   string          `json:"updateTime"`
	DeleteTime   string          `json:"deleteTime"`
	Restrictions json.RawMessage `json:"restrictions"`
	// ServiceAccountEmail binds the key to a service account (keys
	// created with --service-account).
	ServiceAccountEmail string `json:"serviceAccountEmail"`
}

type apiKeyRec struct {
	file string
	key  *apiKey
}

type accountRec struct {
	file    string
	account *iam.ServiceAccount
}

// inventory is everything read from the export or the live APIs, in the
// shapes of the official client types so both paths share one builder.
type inventory struct {
	accounts []accountRec
	keys     []keyRec
	apiKeys  []apiKeyRec
	policies []policyRec
	// skipped lists the files of the directory that are no export this
	// connector reads, with why.
	skipped []string
}

// errUnrecognised marks a file that is no export this connector reads.
var errUnrecognised = errors.New("not a recognised export")

// inferProject picks the project the export is about: the project part of
// the service-account list's resource names, else the one project policy.
func (in *inventory) inferProject() string {
	for _, a := range in.accounts {
		if p := projectOfName(a.account.Name); p != "" && p != "-" {
			return p
		}
	}
	for _, k := range in.keys {
		if p := projectOfName(k.key.Name); p != "" && p != "-" {
			return p
		}
	}
	var projects []string
	for _, p := range in.policies {
		if p.target.kind == targetProject && p.target.id != "" {
			projects = append(projects, p.target.id)
		}
	}
	if len(projects) == 1 {
		return projects[0]
	}
	return ""
}

// projectOfName returns P from "projects/P/serviceAccounts/...".
func projectOfName(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) >= 2 && parts[0] == "projects" {
		return parts[1]
	}
	return ""
}

var (
	policyNameRE   = regexp.MustCompile(`(?i)^(organization|folder|project|serviceaccount)s?[-_](.+)\.policy\.json$`)
	saPolicyNameRE = regexp.MustCompile(`(?i)^([^/]+@[a-z0-9.-]+\.gserviceaccount\.com)\.policy\.json$`)
)

// targetFromFileName reads the policy target from a file name such as
// "organization-123.policy.json" or "sa@p.iam.gserviceaccount.com.policy.json".
func targetFromFileName(base string) (policyTarget, bool) {
	if m := saPolicyNameRE.FindStringSubmatch(base); m != nil {
		return policyTarget{kind: targetServiceAccount, id: strings.ToLower(m[1])}, true
	}
	m := policyNameRE.FindStringSubmatch(base)
	if m == nil {
		return policyTarget{}, false
	}
	switch strings.ToLower(m[1]) {
	case "organization":
		return policyTarget{kind: targetOrganization, id: m[2]}, true
	case "folder":
		return policyTarget{kind: targetFolder, id: m[2]}, true
	case "project":
		return policyTarget{kind: targetProject, id: m[2]}, true
	default:
		return policyTarget{kind: targetServiceAccount, id: strings.ToLower(m[2])}, true
	}
}

// readDir loads every *.json file directly in dir (not in subdirectories). Each file is recognised by its
// content: a service-account list ({"accounts":[...]} or a bare array of
// accounts), a key list ({"keys":[...]} or a bare array of keys), a single
// account or key, or an IAM policy ({"bindings":..., "etag":...}).
func readDir(dir, project string) (*inventory, error) {
	files, err := input.Dir(dir, input.Ext(".json"))
	if err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	in := &inventory{}
	for _, f := range files {
		if err := in.readFile(f, project); err != nil {
			// A file of another kind beside the export (a README.json,
			// another tool's output) is skipped with a warning; a file
			// that is one of ours but broken fails the load.
			if errors.Is(err, errUnrecognised) {
				in.skipped = append(in.skipped, err.Error())
				continue
			}
			return nil, err
		}
	}
	if len(in.skipped) == len(files) {
		return nil, fmt.Errorf("gcp: %s: no file is a recognised export: %s", dir, strings.Join(in.skipped, "; "))
	}
	// A project policy whose file name gives no project id is the
	// export's project's.
	p := project
	if p == "" {
		p = in.inferProject()
	}
	for i := range in.policies {
		if t := &in.policies[i].target; t.kind == targetProject && t.id == "" {
			if p == "" {
				return nil, fmt.Errorf("gcp: %s: a project IAM policy, but the export does not say which project; set the project option", in.policies[i].file)
			}
			t.id = p
		}
	}
	return in, nil
}

// looseTargetRE finds the resource kind in file names that are not of
// the "<kind>-<id>.policy.json" form (gcloud output saved as
// "projects-get-iam-policy.json", Cloud Custodian's
// "…-project-getIamPolicy.json").
var looseTargetRE = regexp.MustCompile(`(?i)(organization|folder|project|serviceaccount)`)

// looseTarget reads the policy target from any file name: an organization
// or folder needs its numeric id in the name; a project without one is
// the export's project; with no kind in the name, a policy is a project's
// (the common "gcloud projects get-iam-policy" output).
func looseTarget(base string) (policyTarget, bool) {
	m := looseTargetRE.FindString(base)
	id := regexp.MustCompile(`\d{6,}`).FindString(base)
	switch strings.ToLower(m) {
	case "organization":
		return policyTarget{kind: targetOrganization, id: id}, id != ""
	case "folder":
		return policyTarget{kind: targetFolder, id: id}, id != ""
	case "serviceaccount":
		return policyTarget{}, false
	}
	return policyTarget{kind: targetProject}, true
}

func (in *inventory) readFile(path, project string) error {
	data, err := input.ReadFile(path, input.JSON)
	if err != nil {
		return fmt.Errorf("gcp: %w", err)
	}
	return in.readData(path, project, data, false)
}

// readData reads one export. unwrapped is set once a recorded API response
// ({"headers": …, "body": …}, as HTTP recorders such as Cloud Custodian's
// flight data save it) has been opened, so a body is not unwrapped twice.
func (in *inventory) readData(path, project string, data []byte, unwrapped bool) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fmt.Errorf("gcp: %s: empty file", path)
	}
	switch trimmed[0] {
	case '[':
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return jsonError(path, "", err)
		}
		if len(items) == 0 {
			return nil
		}
		switch {
		case isKey(items[0]):
			var keys []*iam.ServiceAccountKey
			if err := json.Unmarshal(data, &keys); err != nil {
				return jsonError(path, "", err)
			}
			return in.addKeys(path, "", keys)
		case isAccount(items[0]):
			var accts []*iam.ServiceAccount
			if err := json.Unmarshal(data, &accts); err != nil {
				return jsonError(path, "", err)
			}
			return in.addAccounts(path, "", accts)
		}
		return fmt.Errorf("gcp: %s: [0]: %w: array of neither service accounts (email) nor keys (keyType)", path, errUnrecognised)
	case '{':
	default:
		return fmt.Errorf("gcp: %s: offset 0: not a JSON object or array", path)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return jsonError(path, "", err)
	}
	switch {
	case !unwrapped && top["body"] != nil && top["headers"] != nil:
		return in.readData(path, project, top["body"], true)
	case top["keys"] != nil && isAPIKeyList(top["keys"]):
		var resp struct {
			Keys []*apiKey `json:"keys"`
		}
		if err := json.Unmarshal(data, &resp); err != nil {
			return jsonError(path, "", err)
		}
		for i, k := range resp.Keys {
			if k == nil || k.Name == "" {
				return fmt.Errorf("gcp: %s: keys[%d].name: empty", path, i)
			}
			in.apiKeys = append(in.apiKeys, apiKeyRec{file: path, key: k})
		}
		return nil
	case top["accounts"] != nil:
		var resp iam.ListServiceAccountsResponse
		if err := json.Unmarshal(data, &resp); err != nil {
			return jsonError(path, "", err)
		}
		return in.addAccounts(path, "accounts", resp.Accounts)
	case top["keys"] != nil:
		var resp iam.ListServiceAccountKeysResponse
		if err := json.Unmarshal(data, &resp); err != nil {
			return jsonError(path, "", err)
		}
		return in.addKeys(path, "keys", resp.Keys)
	case top["bindings"] != nil || (top["etag"] != nil && top["version"] != nil):
		var p crm.Policy
		if err := json.Unmarshal(data, &p); err != nil {
			return jsonError(path, "", err)
		}
		t, ok := targetFromFileName(filepath.Base(path))
		if !ok {
			t, ok = looseTarget(filepath.Base(path))
		}
		if !ok {
			return fmt.Errorf("gcp: %s: an IAM policy does not say which resource it is on; name the file organization-<id>.policy.json, folder-<id>.policy.json, project-<id>.policy.json or <sa-email>.policy.json", path)
		}
		for i, b := range p.Bindings {
			if b == nil || b.Role == "" {
				return fmt.Errorf("gcp: %s: bindings[%d].role: empty", path, i)
			}
		}
		in.policies = append(in.policies, policyRec{file: path, target: t, policy: &p})
		return nil
	case isKey(top):
		var k iam.ServiceAccountKey
		if err := json.Unmarshal(data, &k); err != nil {
			return jsonError(path, "", err)
		}
		return in.addKeys(path, "", []*iam.ServiceAccountKey{&k})
	case isAccount(top):
		var a iam.ServiceAccount
		if err := json.Unmarshal(data, &a); err != nil {
			return jsonError(path, "", err)
		}
		return in.addAccounts(path, "", []*iam.ServiceAccount{&a})
	}
	return fmt.Errorf("gcp: %s: %w (want a service-account list, key list, API key list, key, service account or IAM policy)", path, errUnrecognised)
}

// isAPIKeyList tells an API Keys list from a service-account key list:
// API key names are projects/P/locations/L/keys/ID.
func isAPIKeyList(raw json.RawMessage) bool {
	var keys []struct {
		Name string `json:"name"`
	}
	return json.Unmarshal(raw, &keys) == nil && len(keys) > 0 && strings.Contains(keys[0].Name, "/locations/")
}

func isKey(m map[string]json.RawMessage) bool {
	return m["keyType"] != nil || m["validAfterTime"] != nil
}

func isAccount(m map[string]json.RawMessage) bool {
	return m["email"] != nil && (m["uniqueId"] != nil || m["name"] != nil)
}

func (in *inventory) addAccounts(path, field string, accts []*iam.ServiceAccount) error {
	for i, a := range accts {
		if a == nil || a.Email == "" {
			return fmt.Errorf("gcp: %s: %s.email: empty", path, elem(field, i))
		}
		in.accounts = append(in.accounts, accountRec{file: path, account: a})
	}
	return nil
}

func (in *inventory) addKeys(path, field string, keys []*iam.ServiceAccountKey) error {
	for i, k := range keys {
		if k == nil || k.Name == "" {
			return fmt.Errorf("gcp: %s: %s.name: empty", path, elem(field, i))
		}
		if _, _, ok := splitKeyName(k.Name); !ok {
			return fmt.Errorf("gcp: %s: %s.name: %q is not projects/P/serviceAccounts/SA/keys/ID", path, elem(field, i), k.Name)
		}
		for _, f := range [][2]string{{"validAfterTime", k.ValidAfterTime}, {"validBeforeTime", k.ValidBeforeTime}} {
			name, v := f[0], f[1]
			if _, err := time.Parse(time.RFC3339Nano, v); v != "" && err != nil {
				return fmt.Errorf("gcp: %s: %s.%s: %w", path, elem(field, i), name, err)
			}
		}
		in.keys = append(in.keys, keyRec{file: path, key: k})
	}
	return nil
}

func elem(field string, i int) string {
	if field == "" {
		return fmt.Sprintf("[%d]", i)
	}
	return fmt.Sprintf("%s[%d]", field, i)
}

// splitKeyName splits "projects/P/serviceAccounts/SA/keys/ID" into SA
// (email or unique id) and ID.
func splitKeyName(name string) (sa, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "serviceAccounts" || parts[4] != "keys" || parts[3] == "" || parts[5] == "" {
		return "", "", false
	}
	return parts[3], parts[5], true
}

// jsonError names the file and the place in it where decoding failed.
func jsonError(path, field string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("gcp: %s: offset %d: %w", path, se.Offset, err)
	case errors.As(err, &te):
		where := te.Field
		if field != "" {
			where = field + "." + where
		}
		return fmt.Errorf("gcp: %s: field %s (offset %d): %w", path, where, te.Offset, err)
	}
	return fmt.Errorf("gcp: %s: %w", path, err)
}
