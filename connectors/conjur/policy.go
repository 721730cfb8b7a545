package conjur

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/steward-oss/steward/graph"
)

// Error names the place of a policy problem.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("conjur: %s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Record kinds (the YAML tags) and what they become.
var recordKinds = map[string]struct {
	kind    graph.Kind
	subtype string
}{
	"host":         {graph.KindServiceAccount, "conjur_host"},
	"layer":        {graph.KindGroup, "layer"},
	"group":        {graph.KindGroup, "conjur_group"},
	"user":         {graph.KindUser, "conjur_user"},
	"variable":     {graph.KindResource, "secret"},
	"webservice":   {graph.KindResource, "webservice"},
	"host-factory": {graph.KindResource, "host_factory"},
	"policy":       {graph.KindPolicy, "conjur_policy"},
}

type ref struct{ kind, id string }

type parser struct {
	file, account string
	src           string
	sg            *graph.Subgraph
	defined       map[string]int // node id -> line
}

// Parse reads policy YAML loaded into branch ("" = root).
func Parse(file string, data []byte, account, branch string) (*graph.Subgraph, error) {
	if account == "" {
		return nil, errors.New("conjur: account is empty")
	}
	p := &parser{file: file, account: account, src: "conjur:" + account, defined: map[string]int{}}
	p.sg = &graph.Subgraph{Source: p.src}
	p.sg.AddNode(graph.Node{ID: p.src, Kind: graph.KindAccount, Subtype: "conjur_account", Name: account})

	dec := yaml.NewDecoder(bytes.NewReader(data))
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("conjur: %s: %w", file, err)
		}
		docs++
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind != yaml.SequenceNode {
			return nil, p.errf(root, "a policy is a list of records, got %s", kindName(root))
		}
		if err := p.body(root, branch); err != nil {
			return nil, err
		}
	}
	if docs == 0 {
		return nil, &Error{File: file, Line: 1, Col: 1, Msg: "empty policy"}
	}
	p.sg.Normalize()
	if err := p.sg.Validate(); err != nil {
		return nil, fmt.Errorf("conjur: %s: %w", file, err)
	}
	return p.sg, nil
}

func (p *parser) errf(n *yaml.Node, format string, a ...any) error {
	return &Error{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, a...)}
}

// body walks the records of one policy (branch "" is root).
func (p *parser) body(seq *yaml.Node, branch string) error {
	for _, item := range seq.Content {
		if item.Kind == yaml.SequenceNode {
			// "- &variables" anchors a list of records so a later
			// !permit can name them all with *variables.
			if err := p.body(item, branch); err != nil {
				return err
			}
			continue
		}
		tag := strings.TrimPrefix(item.Tag, "!")
		if !strings.HasPrefix(item.Tag, "!") || strings.HasPrefix(item.Tag, "!!") {
			return p.errf(item, "record without a tag (want !host, !layer, !group, !user, !variable, !webservice, !host-factory, !policy, !permit, !deny, !grant, !revoke, !delete)")
		}
		var err error
		switch tag {
		case "permit", "deny":
			err = p.permit(item, branch, tag == "deny")
		case "grant":
			err = p.grant(item, branch)
		case "revoke":
			err = p.revoke(item, branch)
		case "delete":
			err = p.remove(item, branch)
		case "policy":
			err = p.policy(item, branch)
		default:
			if _, ok := recordKinds[tag]; !ok {
				return p.errf(item, "unknown record !%s", tag)
			}
			err = p.record(item, tag, branch)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// qualify turns a policy-relative id into the Conjur id: ids inside
// branch "a/b" become "a/b/<id>", absolute ids ("/x") are taken as is.
// An empty id names the enclosing policy's own id ("- !layer" in policy
// "app" declares layer "app"). Users are the exception: Conjur names a user defined in a non-root
// policy "<id>@<policy with / replaced by ->".
func qualify(kind, id, branch string) string {
	if id == "" {
		return branch // "- !layer" inside policy app is the layer "app"
	}
	if strings.HasPrefix(id, "/") {
		return strings.TrimPrefix(id, "/")
	}
	if branch == "" {
		return id
	}
	if kind == "user" {
		return id + "@" + strings.ReplaceAll(branch, "/", "-")
	}
	return branch + "/" + id
}

func (p *parser) nodeID(r ref) string { return p.src + ":" + r.kind + "/" + r.id }

// fields reads a record's mapping, or the scalar short form ("!layer app").
func (p *parser) fields(n *yaml.Node) (map[string]*yaml.Node, string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return map[string]*yaml.Node{}, n.Value, nil
	case yaml.MappingNode:
		m := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = n.Content[i+1]
		}
		id := ""
		if v, ok := m["id"]; ok {
			if v.Kind != yaml.ScalarNode {
				return nil, "", p.errf(v, "id: want a string, got %s", kindName(v))
			}
			id = v.Value
		}
		return m, id, nil
	}
	return nil, "", p.errf(n, "want a mapping or an id, got %s", kindName(n))
}

func (p *parser) record(n *yaml.Node, tag, branch string) error {
	f, id, err := p.fields(n)
	if err != nil {
		return err
	}
	if id == "" && (branch == "" || tag == "user" || tag == "variable") {
		return p.errf(n, "!%s without an id", tag)
	}
	r := ref{tag, qualify(tag, id, branch)}
	nodeID := p.nodeID(r)
	if line, dup := p.defined[nodeID]; dup {
		return p.errf(n, "!%s %s already defined on line %d", tag, r.id, line)
	}
	p.defined[nodeID] = n.Line
	rk := recordKinds[tag]
	node := graph.Node{ID: nodeID, Kind: rk.kind, Subtype: rk.subtype, Name: r.id, Attrs: map[string]string{"conjur_id": p.account + ":" + tag + ":" + r.id}}
	if a, ok := f["annotations"]; ok {
		tags, err := p.annotations(a)
		if err != nil {
			return err
		}
		node.Tags = tags
	}
	for _, k := range []string{"kind", "mime_type", "restricted_to", "layers"} {
		if v, ok := f[k]; ok {
			node.Attrs[k] = scalarsJoined(v)
		}
	}
	p.sg.AddNode(node)
	p.sg.AddEdge(graph.Edge{From: nodeID, To: p.src, Kind: graph.EdgeInAccount})
	return p.owners(f, branch, nodeID, r.id, "owner")
}

// owners adds the grants edges of a record's owner field (if any): each
// owner may write resource; via names the field in the edge's provenance.
func (p *parser) owners(f map[string]*yaml.Node, branch, nodeID, resource, via string) error {
	o, ok := f["owner"]
	if !ok {
		return nil
	}
	owners, err := p.refs(o, branch, "owner")
	if err != nil {
		return err
	}
	for _, ow := range owners {
		p.sg.AddEdge(graph.Edge{From: p.nodeID(ow), To: nodeID, Kind: graph.EdgeGrants, Action: "owner", Resource: resource,
			Effect: graph.EffectAllow, Privilege: graph.PrivWrite, Attrs: map[string]string{graph.AttrVia: fmt.Sprintf("%s, %s:%d", via, p.file, o.Line)}})
	}
	return nil
}

// policy declares a nested policy: its id prefixes everything in body,
// and its owner holds every privilege on the objects inside.
func (p *parser) policy(n *yaml.Node, branch string) error {
	f, id, err := p.fields(n)
	if err != nil {
		return err
	}
	if id == "" {
		return p.errf(n, "!policy without an id")
	}
	full := qualify("policy", id, branch)
	nodeID := p.nodeID(ref{"policy", full})
	if line, dup := p.defined[nodeID]; dup {
		return p.errf(n, "!policy %s already defined on line %d", full, line)
	}
	p.defined[nodeID] = n.Line
	node := graph.Node{ID: nodeID, Kind: graph.KindPolicy, Subtype: "conjur_policy", Name: full, Attrs: map[string]string{"conjur_id": p.account + ":policy:" + full}}
	if a, ok := f["annotations"]; ok {
		if node.Tags, err = p.annotations(a); err != nil {
			return err
		}
	}
	p.sg.AddNode(node)
	p.sg.AddEdge(graph.Edge{From: nodeID, To: p.src, Kind: graph.EdgeInAccount})
	// Owning a policy is every privilege on everything in it.
	if err := p.owners(f, branch, nodeID, full+"/*", "policy owner"); err != nil {
		return err
	}
	if b, ok := f["body"]; ok {
		if b.Kind != yaml.SequenceNode {
			return p.errf(b, "!policy %s body: want a list of records, got %s", full, kindName(b))
		}
		return p.body(b, full)
	}
	return nil
}

// permit (and deny) give role(s) privileges on resource(s).
func (p *parser) permit(n *yaml.Node, branch string, deny bool) error {
	what := "!permit"
	if deny {
		what = "!deny"
	}
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s: want a mapping with role, privileges, resource", what)
	}
	f, _, err := p.fields(n)
	if err != nil {
		return err
	}
	// Conjur accepts singular and plural keys.
	for _, k := range []string{"role", "privilege", "resource"} {
		if _, ok := f[k]; !ok {
			f[k] = f[k+"s"]
		}
		if f[k] == nil {
			return p.errf(n, "%s without %s", what, k+"s")
		}
	}
	roles, err := p.refs(f["role"], branch, "role")
	if err != nil {
		return err
	}
	resources, err := p.refs(f["resource"], branch, "resource")
	if err != nil {
		return err
	}
	privs, err := p.scalars(f["privilege"], "privileges")
	if err != nil {
		return err
	}
	sort.Strings(privs)
	for _, role := range roles {
		for _, res := range resources {
			e := graph.Edge{From: p.nodeID(role), To: p.nodeID(res), Kind: graph.EdgeGrants, Action: strings.Join(privs, ","),
				Resource: res.id, Effect: graph.EffectAllow, Privilege: privilege(res.kind, privs),
				Attrs: map[string]string{graph.AttrVia: fmt.Sprintf("%s, %s:%d", what, p.file, n.Line)}}
			if deny {
				e.Effect, e.Privilege = graph.EffectDeny, graph.PrivNone
			}
			p.sg.AddEdge(e)
		}
	}
	return nil
}

// privilege classifies Conjur privileges on a resource. On a variable,
// read and execute both let the holder fetch the secret value (execute
// is the fetch; read is metadata, and Conjur docs pair them), so either is
// read access to the secret; update and create change things.
func privilege(kind string, privs []string) graph.Privilege {
	best := graph.PrivNone
	for _, pr := range privs {
		var got graph.Privilege
		switch pr {
		case "read":
			got = graph.PrivRead
		case "execute":
			got = graph.PrivRead
			if kind != "variable" {
				got = graph.PrivWrite // invoking a webservice, host factory, ...
			}
		default: // update, create, and anything newer
			got = graph.PrivWrite
		}
		if got.Rank() > best.Rank() {
			best = got
		}
	}
	return best
}

// grant makes member(s) members of a role.
func (p *parser) grant(n *yaml.Node, branch string) error {
	roles, members, err := p.roleMembers(n, branch, "!grant")
	if err != nil {
		return err
	}
	if len(members) == 0 {
		return p.errf(n, "!grant without member or members")
	}
	for _, role := range roles {
		for _, m := range members {
			p.sg.AddEdge(graph.Edge{From: p.nodeID(m), To: p.nodeID(role), Kind: graph.EdgeMemberOf,
				Attrs: map[string]string{graph.AttrVia: fmt.Sprintf("!grant, %s:%d", p.file, n.Line)}})
		}
	}
	return nil
}

// revoke undoes an earlier grant in the same file.
func (p *parser) revoke(n *yaml.Node, branch string) error {
	roles, members, err := p.roleMembers(n, branch, "!revoke")
	if err != nil {
		return err
	}
	gone := map[[2]string]bool{}
	for _, role := range roles {
		for _, m := range members {
			gone[[2]string{p.nodeID(m), p.nodeID(role)}] = true
		}
	}
	if len(gone) == 0 {
		return p.errf(n, "!revoke without member or members")
	}
	out := p.sg.Edges[:0]
	for _, e := range p.sg.Edges {
		if e.Kind == graph.EdgeMemberOf && gone[[2]string{e.From, e.To}] {
			continue
		}
		out = append(out, e)
	}
	p.sg.Edges = out
	return nil
}

// roleMembers reads the role and member(s) of a !grant or !revoke (tag
// names the record in errors).
func (p *parser) roleMembers(n *yaml.Node, branch, tag string) (roles, members []ref, err error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, p.errf(n, "%s: want a mapping with role and member(s)", tag)
	}
	f, _, err := p.fields(n)
	if err != nil {
		return nil, nil, err
	}
	rn, ok := f["role"]
	if !ok {
		return nil, nil, p.errf(n, "%s without role", tag)
	}
	if roles, err = p.refs(rn, branch, "role"); err != nil {
		return nil, nil, err
	}
	for _, k := range []string{"member", "members"} {
		if m, ok := f[k]; ok {
			ms, err := p.refs(m, branch, k)
			if err != nil {
				return nil, nil, err
			}
			members = append(members, ms...)
		}
	}
	return roles, members, nil
}

// remove handles !delete {record: !kind id}: the record and every edge
// touching it leave the graph.
func (p *parser) remove(n *yaml.Node, branch string) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "!delete: want a mapping with record")
	}
	f, _, err := p.fields(n)
	if err != nil {
		return err
	}
	rn, ok := f["record"]
	if !ok {
		return p.errf(n, "!delete without record")
	}
	recs, err := p.refs(rn, branch, "record")
	if err != nil {
		return err
	}
	for _, r := range recs {
		id := p.nodeID(r)
		delete(p.defined, id)
		nodes := p.sg.Nodes[:0]
		for _, x := range p.sg.Nodes {
			if x.ID != id {
				nodes = append(nodes, x)
			}
		}
		p.sg.Nodes = nodes
		edges := p.sg.Edges[:0]
		for _, e := range p.sg.Edges {
			if e.From != id && e.To != id {
				edges = append(edges, e)
			}
		}
		p.sg.Edges = edges
	}
	return nil
}

// refs reads one tagged reference ("!layer app") or a list of them. A
// member may also be written as {role: !host x, admin_option: true}.
func (p *parser) refs(n *yaml.Node, branch, field string) ([]ref, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return p.refs(n.Alias, branch, field)
	case yaml.SequenceNode:
		var out []ref
		for _, c := range n.Content {
			r, err := p.refs(c, branch, field)
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	case yaml.MappingNode:
		f, _, err := p.fields(n)
		if err != nil {
			return nil, err
		}
		if r, ok := f["role"]; ok && (n.Tag == "!!map" || n.Tag == "!member") {
			return p.refs(r, branch, field) // !member {role: !user x, admin: true}
		}
		// A tagged mapping ("!host {id: x}") is a reference too.
	case yaml.ScalarNode:
	default:
		return nil, p.errf(n, "%s: want a reference like !host name, got %s", field, kindName(n))
	}
	kind := strings.TrimPrefix(n.Tag, "!")
	if strings.HasPrefix(n.Tag, "!!") || kind == "" || kind == n.Tag {
		return nil, p.errf(n, "%s: reference without a kind tag (write !host %s, !layer %s, ...)", field, n.Value, n.Value)
	}
	if _, ok := recordKinds[kind]; !ok {
		return nil, p.errf(n, "%s: unknown kind !%s", field, kind)
	}
	_, id, err := p.fields(n)
	if err != nil {
		return nil, err
	}
	if id == "" && branch == "" {
		return nil, p.errf(n, "%s: !%s without an id", field, kind)
	}
	return []ref{{kind, qualify(kind, id, branch)}}, nil
}

func (p *parser) scalars(n *yaml.Node, field string) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, p.errf(c, "%s: want strings, got %s", field, kindName(c))
			}
			out = append(out, c.Value)
		}
		if len(out) == 0 {
			return nil, p.errf(n, "%s: empty", field)
		}
		return out, nil
	}
	return nil, p.errf(n, "%s: want a string or a list, got %s", field, kindName(n))
}

func (p *parser) annotations(n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "annotations: want a mapping, got %s", kindName(n))
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, p.errf(v, "annotations.%s: want a string, got %s", n.Content[i].Value, kindName(v))
		}
		out[n.Content[i].Value] = v.Value
	}
	return out, nil
}

func scalarsJoined(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, c.Value)
	}
	return strings.Join(parts, ",")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}
