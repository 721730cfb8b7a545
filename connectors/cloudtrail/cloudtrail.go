// Package cloudtrail reads AWS CloudTrail events into the Steward graph:
// used edges (who called which service action, when, from where) and
// created_by edges for identities and keys created through IAM, which
// ownership inference reads. Node ids come from connectors/aws/awsid so the
// edges land on the nodes the aws connector emits; the aws connector also
// calls Build to fold events into its own account subgraphs.
package cloudtrail

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// OptFrom names the file or directory to read.
const OptFrom = "from"

func init() {
	connectors.Register(connectors.Registration{
		Name:    "cloudtrail",
		Summary: "AWS CloudTrail events: who used which identity and key, and who created them",
		Options: []connectors.Option{
			{Name: OptFrom, Usage: "CloudTrail file or directory (*.json, *.json.gz; trail logs, lookup-events output, single or EventBridge events)", Required: true},
		},
		New: New,
	})
}

// Reader reads CloudTrail files.
type Reader struct {
	from   string
	logger *slog.Logger
}

var _ connectors.Reader = (*Reader)(nil)

// New builds a Reader.
func New(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
	if opts[OptFrom] == "" {
		return nil, fmt.Errorf("cloudtrail: option %q is required", OptFrom)
	}
	l := env.Logger
	if l == nil {
		l = slog.Default()
	}
	return &Reader{from: opts[OptFrom], logger: l}, nil
}

// SourceName is the source of one account's CloudTrail facts.
func SourceName(account string) string { return "cloudtrail:" + account }

// Read returns one subgraph per account that recorded events.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	events, err := ReadPath(ctx, r.from)
	if err != nil {
		return nil, err
	}
	sgs := Build(events, SourceName)
	if d := Unmapped(events); d.Total() > 0 {
		r.logger.Warn("cloudtrail: events left out", "dropped", d.Total(), "detail", d.String())
	}
	for _, sg := range sgs {
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("cloudtrail: %w", err)
		}
	}
	r.logger.Info("cloudtrail: read", "events", len(events), "accounts", len(sgs))
	return sgs, nil
}
