package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/steward-oss/steward/connectors/input"

	gh "github.com/google/go-github/v82/github"
)

// webhookPayload holds the fields that tell GitHub's webhook events apart
// (docs.github.com "Webhook events and payloads"; octokit/webhooks
// payload-examples).
type webhookPayload struct {
	Action            string          `json:"action"`
	Installation      json.RawMessage `json:"installation"`
	RepositoriesAdded json.RawMessage `json:"repositories_added"`
	Key               *gh.Key         `json:"key"`
	Repository        *gh.Repository  `json:"repository"`
	Member            json.RawMessage `json:"member"`
	Sender            json.RawMessage `json:"sender"`
}

// loadWebhooks reads dir/*.json, each one webhook payload as delivered,
// the event inferred from its shape: installation and
// installation_repositories events add their installation (unless
// deleted), deploy_key "created" adds the key to its repository. member
// and github_app_authorization events are recognised but carry nothing
// the graph holds. Any other JSON is reported in ex.Unrecognised. It
// returns how many payloads were recognised.
func loadWebhooks(dir string, ex *Export) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("github: webhooks: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	seen := map[int64]bool{}
	for _, in := range ex.Installations {
		seen[in.GetID()] = true
	}
	found := 0
	for _, name := range names {
		p := filepath.Join(dir, name)
		data, err := input.ReadFile(p, input.JSON)
		if err != nil {
			return 0, fmt.Errorf("github: %w", err)
		}
		var w webhookPayload
		if err := decode(p, data, &w); err != nil {
			return 0, err
		}
		var inst *gh.Installation
		if len(w.Installation) > 0 {
			if err := json.Unmarshal(w.Installation, &inst); err != nil {
				return 0, fmt.Errorf("github: %s: installation: %w", p, describeJSON(w.Installation, err))
			}
		}
		switch {
		case inst != nil && inst.GetAppID() != 0 && w.Action != "":
			// installation / installation_repositories: the full
			// installation object (other events carry only its id).
			found++
			if w.Action != "deleted" && !seen[inst.GetID()] {
				seen[inst.GetID()] = true
				ex.Installations = append(ex.Installations, inst)
			}
		case w.Key != nil && w.Repository != nil:
			found++
			if w.Action == "created" {
				repo := w.Repository.GetName()
				ex.Keys[repo] = append(ex.Keys[repo], w.Key)
			}
		case len(w.Member) > 0 && w.Repository != nil, w.Action == "revoked" && len(w.Sender) > 0:
			found++ // member, github_app_authorization: nothing to load
		default:
			ex.Unrecognised = append(ex.Unrecognised, p)
		}
	}
	return found, nil
}
