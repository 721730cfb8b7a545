// Package entra reads Microsoft Entra ID (Azure AD) non-human identities and
// their privileges: app registrations and their secrets and certificates,
// service principals and managed identities, directory role assignments,
// app-role (API permission) grants, and Azure RBAC role assignments. It
// reads Microsoft Graph / ARM JSON exports (also PowerShell Get-Mg* output,
// UTF-16 or UTF-8) or calls the two APIs live over plain HTTPS.
package entra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

func init() {
	connectors.Register(connectors.Registration{
		Name:    "entra",
		Summary: "Microsoft Entra ID apps, service principals, managed identities, directory roles, API permissions and Azure RBAC",
		Words:   []string{"entra", "azure", "azure ad", "aad", "microsoft"},
		Options: []connectors.Option{
			{Name: "from", Usage: "directory of Microsoft Graph / ARM JSON exports"},
			{Name: "live", Usage: "read Microsoft Graph (and ARM with subscription) live", Bool: true},
			{Name: "tenant", Usage: "tenant id, required with live; the source is entra:<tenant> (default for files: the --from directory's name)"},
			{Name: "endpoint", Usage: "Microsoft Graph base URL (default " + defaultGraph + ")"},
			{Name: "token-file", Usage: "file holding a Microsoft Graph bearer token (live)"},
			{Name: "subscription", Usage: "Azure subscription id whose role assignments to read (live)"},
			{Name: "arm-endpoint", Usage: "Azure Resource Manager base URL (default " + defaultARM + ")"},
			{Name: "arm-token-file", Usage: "file holding an ARM bearer token (live, with subscription)"},
		},
		New: newReader,
	})
}

const (
	// requestTimeout bounds one page request; a whole read is bounded by ctx.
	requestTimeout = 2 * time.Minute
	defaultGraph   = "https://graph.microsoft.com/v1.0"
	defaultARM     = "https://management.azure.com"
)

// Reader reads one tenant.
type Reader struct {
	from         string
	live         bool
	tenant       string
	endpoint     string
	tokenFile    string
	subscription string
	armEndpoint  string
	armTokenFile string
	readFile     func(string) ([]byte, error)
	log          *slog.Logger
	client       *http.Client
}

var _ connectors.Reader = (*Reader)(nil)

func newReader(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	r := &Reader{from: opts["from"], tenant: strings.ToLower(opts["tenant"]), endpoint: opts["endpoint"],
		tokenFile: opts["token-file"], subscription: opts["subscription"], armEndpoint: opts["arm-endpoint"],
		armTokenFile: opts["arm-token-file"], readFile: env.ReadFile, log: env.Logger, client: &http.Client{Timeout: requestTimeout}}
	if r.readFile == nil {
		r.readFile = os.ReadFile
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.endpoint == "" {
		r.endpoint = defaultGraph
	}
	if r.armEndpoint == "" {
		r.armEndpoint = defaultARM
	}
	var err error
	if r.live, err = opts.Bool("live"); err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	if r.tenant == "" && !r.live && r.from != "" {
		// A file export names no tenant; its directory does.
		r.tenant = strings.ToLower(filepath.Base(filepath.Clean(r.from)))
	}
	switch {
	case r.tenant == "" || r.tenant == "." || r.tenant == string(filepath.Separator):
		return nil, errors.New("entra: option tenant is required with live (or name the --from directory)")
	case r.live && r.from != "":
		return nil, errors.New("entra: options from and live are exclusive")
	case !r.live && r.from == "":
		return nil, errors.New("entra: one of the options from or live is required")
	case r.live && r.tokenFile == "":
		return nil, errors.New("entra: option token-file is required with live")
	case r.live && r.subscription != "" && r.armTokenFile == "":
		return nil, errors.New("entra: option arm-token-file is required with subscription")
	}
	return r, nil
}

// Read returns one subgraph, source "entra:<tenant>".
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	var (
		in  *inventory
		err error
	)
	if r.live {
		in, err = r.readLive(ctx)
	} else {
		in, err = readDir(r.from)
	}
	if err != nil {
		return nil, err
	}
	for _, why := range in.skipped {
		r.log.Warn("entra: file skipped", "why", why)
	}
	sg := build(r.tenant, in)
	if err := sg.Validate(); err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	return []*graph.Subgraph{sg}, nil
}
