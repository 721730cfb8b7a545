// Package hr reads the HR roster, a CSV export, and emits the accountable
// people of the graph: one human node per person, keyed by e-mail, with
// their team, manager and whether they have left. It is the only connector
// that emits human nodes, so every owner the graph reports traces back to
// this roster.
//
// Rows whose status is "alias" describe a team mailing list (an owner tag
// often names "payments-team@example.com" rather than a person); they
// become team group nodes carrying the alias e-mail and the manager who
// answers for it, which the ownership package resolves to that manager.
package hr

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/input"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/graph"
)

// Source is the name of the subgraph this connector emits.
const Source = "hr"

// TeamPrefix starts the node id of an HR team group: "hr:team/<team>".
const TeamPrefix = Source + ":team/"

// AttrAlias marks a team group node whose attrs.email is a team alias row.
const AttrAlias = "alias"

// columns is the header the roster must have, in any order.
var columns = []string{"email", "name", "team", "manager", "status", "end_date"}

func init() {
	connectors.Register(connectors.Registration{
		Name:       "hr",
		Summary:    "HR roster CSV (email,name,team,manager,status,end_date): the accountable people",
		PeopleFeed: true,
		Options: []connectors.Option{
			{Name: "from", Usage: "path of the roster CSV file", Required: true},
		},
		New: func(opts connectors.Options, env connectors.Env) (connectors.Reader, error) {
			return &Reader{Path: opts["from"]}, nil
		},
	})
}

// Reader reads one roster file.
type Reader struct {
	Path string
}

var _ connectors.Reader = (*Reader)(nil)

// Error names the file, line and column of a bad roster row.
type Error struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *Error) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("hr: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("hr: %s:%d: column %q: %s", e.File, e.Line, e.Column, e.Msg)
}

// Read parses the whole roster; any bad row fails the read, so a roster is
// never half loaded.
func (r *Reader) Read(ctx context.Context) ([]*graph.Subgraph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := input.ReadFile(r.Path, input.CSV)
	if err != nil {
		return nil, fmt.Errorf("hr: read roster: %w", err)
	}
	sg, err := Parse(filepath.Base(r.Path), data)
	if err != nil {
		return nil, err
	}
	return []*graph.Subgraph{sg}, nil
}

// Status values and what they mean. Anything else is an error rather than
// a guess, because a wrong "active" hides an orphaned identity.
var statuses = map[string]string{
	"active":     graph.StatusActive,
	"leave":      graph.StatusActive, // still employed and accountable
	"on_leave":   graph.StatusActive,
	"terminated": graph.StatusDeparted,
	"departed":   graph.StatusDeparted,
	"inactive":   graph.StatusDeparted,
	"alias":      "",
}

// Parse reads roster CSV data; file names the input in errors.
func Parse(file string, data []byte) (*graph.Subgraph, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // spreadsheet exports add a BOM
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Line: 1, Msg: "empty file, want header " + strings.Join(columns, ",")}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range columns {
		if _, ok := col[c]; !ok {
			return nil, &Error{File: file, Line: 1, Column: c, Msg: "missing from header " + strings.Join(columns, ",")}
		}
	}

	sg := &graph.Subgraph{Source: Source}
	seen := map[string]int{}
	teams := map[string]*graph.Node{}
	team := func(name string) *graph.Node {
		t, ok := teams[name]
		if !ok {
			t = &graph.Node{ID: TeamPrefix + name, Kind: graph.KindGroup, Name: name,
				Attrs: map[string]string{graph.AttrTeam: name}}
			teams[name] = t
		}
		return t
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("%d fields, header has %d", len(rec), len(header))}
		}
		get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		bad := func(c, msg string) error { return &Error{File: file, Line: line, Column: c, Msg: msg} }

		email, err := address(get("email"))
		if err != nil {
			return nil, bad("email", err.Error())
		}
		if j, dup := seen[email]; dup {
			return nil, bad("email", fmt.Sprintf("%s already on line %d", email, j))
		}
		seen[email] = line
		manager := ""
		if m := get("manager"); m != "" {
			if manager, err = address(m); err != nil {
				return nil, bad("manager", err.Error())
			}
		}
		rawStatus := strings.ToLower(get("status"))
		status, ok := statuses[rawStatus]
		if !ok {
			return nil, bad("status", fmt.Sprintf("unknown status %q (want active, leave, terminated, departed, inactive or alias)", get("status")))
		}
		var end time.Time
		if s := get("end_date"); s != "" {
			if end, err = parseDate(s); err != nil {
				return nil, bad("end_date", err.Error())
			}
		}
		teamName := get("team")

		if rawStatus == "alias" {
			if teamName == "" {
				return nil, bad("team", "an alias row must name its team")
			}
			t := team(teamName)
			if t.Attrs[graph.AttrEmail] != "" {
				return nil, bad("email", fmt.Sprintf("team %q already has alias %s", teamName, t.Attrs[graph.AttrEmail]))
			}
			t.Attrs[graph.AttrEmail] = email
			t.Attrs[AttrAlias] = "true"
			if manager != "" {
				t.Attrs[graph.AttrManager] = manager
			}
			if n := get("name"); n != "" {
				t.Name = n
			}
			continue
		}

		h := graph.Node{ID: graph.HumanID(email), Kind: graph.KindHuman, Name: get("name"), Status: status,
			Attrs: map[string]string{graph.AttrEmail: email}}
		if h.Name == "" {
			h.Name = email
		}
		if teamName != "" {
			h.Attrs[graph.AttrTeam] = teamName
			team(teamName)
			sg.AddEdge(graph.Edge{From: h.ID, To: TeamPrefix + teamName, Kind: graph.EdgeMemberOf})
		}
		if manager != "" {
			h.Attrs[graph.AttrManager] = manager
		}
		if !end.IsZero() {
			h.Attrs[graph.AttrEndDate] = end.Format(time.RFC3339)
		}
		sg.AddNode(h)
	}
	for _, n := range slices.Sorted(maps.Keys(teams)) {
		sg.AddNode(*teams[n])
	}
	if err := sg.Validate(); err != nil {
		return nil, fmt.Errorf("hr: %s: %w", file, err)
	}
	return sg, nil
}

func address(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", fmt.Errorf("%q is not a bare e-mail address", s)
	}
	return strings.ToLower(a.Address), nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD or RFC 3339)", s)
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return fmt.Errorf("hr: %s: %w", file, err)
}
