package planner

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/query"
)

// Resolver looks the names a question mentions up in the graph, so the
// planner can tell "the terraform user" (the identity terraform) and
// "terraform-apply in staging" (one of three roles of that name) apart.
// It never corrects spelling: a name that resolves to nothing stays as
// written, and the executor answers with did-you-mean suggestions the
// analyst can pick from.
type Resolver interface {
	// Candidates returns the identities, credentials, roles and groups
	// whose id or name equals name case-insensitively.
	Candidates(name string) []Candidate
}

// Candidate is one node a name may refer to.
type Candidate struct {
	ID string
	// Environment is "prod", "staging", "dev" or empty, from the node or
	// its account.
	Environment string
	// Account is the account, project, cluster or tenant id it lives in.
	Account string
}

// Options tune PlanWith.
type Options struct {
	// Resolver, when set, resolves entity names against the graph.
	Resolver Resolver
	// Now is the clock change questions' relative times ("since
	// yesterday", "last 7 days") are resolved against; zero means
	// time.Now().
	Now time.Time
}

// PlanWith is Plan with options.
func PlanWith(question string, prev *query.Plan, o Options) (*query.Plan, error) {
	u, err := Understand(question, prev, o)
	if err != nil {
		return nil, err
	}
	return u.Plan, nil
}

// Understand is PlanWith that also returns the typo corrections made, to
// be shown with the answer.
func Understand(question string, prev *query.Plan, o Options) (*Understanding, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	u, err := understand(question, prev, now)
	if err != nil || o.Resolver == nil {
		return u, err
	}
	p := u.Plan
	if err := entityWords(question, p, prev, o.Resolver); err != nil {
		return nil, err
	}
	env := ""
	for _, f := range p.Filters {
		if f.Field == "environment" && f.Op == "eq" {
			env, _ = f.Value.(string)
		}
	}
	switch {
	case p.Reach != nil:
		p.Reach.From = resolveEntity(o.Resolver, p.Reach.From, env)
	case p.WhoCan != nil && p.WhoCan.Action == "assume":
		name, wEnv := splitEnv(p.WhoCan.Resource)
		if wEnv == "" {
			// The parser drops a trailing "in staging" from the role.
			wEnv = questionEnv(normalize(question))
		}
		p.WhoCan.Resource = resolveEntity(o.Resolver, name, wEnv)
	case p.WhoCan != nil && p.WhoCan.Resource != "*":
		// "the scim-sync repo": the noun the parser cut off says which
		// kind of node the name is, so the deploy-scim-sync roles that
		// also contain the name are not asked about.
		if tr, ok := o.Resolver.(typedResolver); ok {
			if noun := typeNounOf(normalize(question), p.WhoCan.Resource); noun != "" {
				if ids := tr.Typed(p.WhoCan.Resource, noun); len(ids) == 1 {
					p.WhoCan.Resource = ids[0]
				}
			}
		}
	}
	return u, nil
}

// typedResolver is implemented by resolvers that can look a name up among
// the nodes of one type (a repository, a bucket, a role).
type typedResolver interface {
	// Typed returns the ids of the nodes named name (case-insensitive)
	// whose kind or subtype is what noun (one of typeNouns) names.
	Typed(name, noun string) []string
}

// typeNounOf returns the type noun written next to name in q ("scim-sync
// repo", "bucket acme-logs"), or "".
func typeNounOf(q, name string) string {
	for _, n := range typeNouns {
		if containsWord(q, name+" "+n) || containsWord(q, n+" "+name) {
			return n
		}
	}
	return ""
}

// nounTypes is the kind or subtype word a type noun stands for: a node
// is of that type when its kind equals it or its subtype contains it
// (repository, s3_bucket, gcs_bucket, iam_role, cluster_role ...).
var nounTypes = map[string]string{"repo": "repository", "db": "database"}

func ofType(n *graph.Node, noun string) bool {
	t := noun
	if c, ok := nounTypes[noun]; ok {
		t = c
	}
	return string(n.Kind) == t || strings.Contains(n.Subtype, t)
}

// entityNouns say what kind of thing a name is ("the terraform user",
// "role terraform-apply"); they are dropped when the whole phrase names
// nothing.
var entityNouns = []string{"service account", "service principal", "user", "role", "bot", "app", "application", "identity", "group", "workload", "agent", "sa", "account", "key", "credential"}

var arnRE = regexp.MustCompile(`^arn:aws:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$`)

// resolveEntity returns the node id name refers to when exactly one
// candidate fits (narrowed by env when several do), else name unchanged.
func resolveEntity(r Resolver, name, env string) string {
	for _, variant := range nameVariants(name) {
		account := ""
		if m := arnRE.FindStringSubmatch(variant); m != nil {
			account, variant = m[1], m[3]
		}
		cands := r.Candidates(variant)
		if account != "" {
			cands = slices.DeleteFunc(cands, func(c Candidate) bool { return !strings.HasSuffix(c.Account, ":"+account) })
		}
		if len(cands) > 1 && env != "" {
			inEnv := slices.DeleteFunc(slices.Clone(cands), func(c Candidate) bool { return c.Environment != env })
			if len(inEnv) > 0 {
				cands = inEnv
			}
		}
		switch {
		case len(cands) == 1:
			return cands[0].ID
		case len(cands) > 1 && variant == name:
			// Ambiguous as written: the executor lists the candidates.
			return name
		case len(cands) > 1:
			return variant
		}
	}
	return name
}

// nameVariants lists name as written, then without a leading or trailing
// kind noun.
func nameVariants(name string) []string {
	out := []string{name}
	for _, n := range entityNouns {
		if t, ok := strings.CutSuffix(name, " "+n); ok && t != "" {
			out = append(out, strings.TrimSpace(t))
		}
		if t, ok := strings.CutPrefix(name, n+" "); ok && t != "" {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}

// envPhraseRE finds "in prod", "in the staging account", "in dev" at the
// end of an entity phrase.
var envPhraseRE = regexp.MustCompile(`\s+(?:in|from|of)\s+(?:the\s+)?(prod|production|staging|stage|dev|development)(?:\s+(?:account|project|cluster|environment|env|tenant))?$`)

func questionEnv(q string) string {
	for _, ew := range envWords {
		if containsWord(q, ew.word) {
			return ew.env
		}
	}
	return ""
}

// splitEnv cuts an environment qualifier off an entity phrase.
func splitEnv(s string) (string, string) {
	m := envPhraseRE.FindStringSubmatchIndex(s)
	if m == nil {
		return s, ""
	}
	w := s[m[2]:m[3]]
	for _, ew := range envWords {
		if ew.word == w {
			return strings.TrimSpace(s[:m[0]]), ew.env
		}
	}
	return s, ""
}

// IndexResolver resolves names against ix. It indexes names once and is
// safe for concurrent use.
func IndexResolver(ix *graph.Index) Resolver {
	return &indexResolver{ix: ix}
}

// build indexes the names on first use: most questions name nobody, and
// a fresh `steward ask` should not pay for a map of every name.
func (r *indexResolver) build() {
	r.byName, r.byID, r.sourceEnv = map[string][]int32{}, map[string][]int32{}, map[string]string{}
	ix := r.ix
	for i := range int32(ix.NumNodes()) {
		kind := ix.NodeKind(i)
		if kind == graph.KindAccount {
			src := ix.NodeSource(i)
			env := strings.ToLower(ix.NodeAttr(i, graph.AttrEnvironment))
			if old, seen := r.sourceEnv[src]; seen && old != env {
				env = "" // accounts of one source disagree: unknown
			}
			r.sourceEnv[src] = env
		}
		if kind.IsIdentity() || kind == graph.KindCredential || kind == graph.KindRole || kind == graph.KindGroup {
			k := strings.ToLower(ix.NodeName(i))
			r.byName[k] = append(r.byName[k], int32(i))
			if id := ix.NodeID(i); strings.ToLower(id) != id {
				l := strings.ToLower(id)
				r.byID[l] = append(r.byID[l], int32(i))
			}
		}
	}
}

type indexResolver struct {
	ix     *graph.Index
	once   sync.Once
	byName map[string][]int32 // lower-case name -> nodes
	// byID holds the ids that have capitals, by their lower-case form:
	// the planner reads questions lower-cased, and
	// "aws:012345678901:role/OverprivilegedEC2" must still be found.
	byID map[string][]int32
	// resources are the lower-case node ids and names and grant
	// resources, built on first use by KnowsResource.
	resOnce   sync.Once
	resources []string
	// sourceEnv is the environment of each source's account, for nodes
	// (roles, groups) that carry no in_account edge of their own.
	sourceEnv map[string]string
	// allByName holds every node by lower-case name, built on first use
	// by Typed.
	typedOnce sync.Once
	allByName map[string][]int32
}

var _ Resolver = (*indexResolver)(nil)

func (r *indexResolver) Candidates(name string) []Candidate {
	r.once.Do(r.build)
	if i, ok := r.ix.Lookup(name); ok {
		return []Candidate{r.candidate(i)}
	}
	if ids := r.byID[strings.ToLower(name)]; len(ids) == 1 {
		return []Candidate{r.candidate(ids[0])}
	}
	var out []Candidate
	for _, i := range r.byName[strings.ToLower(name)] {
		out = append(out, r.candidate(i))
	}
	return out
}

func (r *indexResolver) candidate(i int32) Candidate {
	n := r.ix.Node(i)
	c := Candidate{ID: n.ID, Environment: strings.ToLower(n.Attrs[graph.AttrEnvironment])}
	for _, ei := range r.ix.Out(i) {
		if e := r.ix.Edge(ei); e.Kind == graph.EdgeInAccount {
			c.Account = e.To
			if c.Environment == "" {
				if a, ok := r.ix.Lookup(e.To); ok {
					c.Environment = strings.ToLower(r.ix.NodeAttr(a, graph.AttrEnvironment))
				}
			}
			break
		}
	}
	if c.Environment == "" {
		c.Environment = r.sourceEnv[n.Source]
	}
	return c
}

// resourceKnower is implemented by resolvers that can tell whether a
// who-can resource names anything in the graph.
type resourceKnower interface {
	KnowsResource(name string) bool
}

// entityWords refuses a plan whose entity phrase names nothing as a whole
// while a part of it names something: "what can zorblax ci-deployer
// access" is ci-deployer plus a word the planner cannot use, and
// answering for ci-deployer would drop it.
func entityWords(question string, p *query.Plan, prev *query.Plan, r Resolver) error {
	var name string
	var known func(string) bool
	switch {
	case p.Reach != nil && (prev == nil || prev.Reach == nil || prev.Reach.From != p.Reach.From):
		name = p.Reach.From
		known = func(s string) bool {
			for _, v := range nameVariants(s) {
				if len(r.Candidates(v)) > 0 {
					return true
				}
			}
			return false
		}
	case p.WhoCan != nil && p.WhoCan.Action == "assume":
		name, _ = splitEnv(p.WhoCan.Resource)
		known = func(s string) bool { return len(r.Candidates(s)) > 0 }
	case p.WhoCan != nil && p.WhoCan.Resource != "*":
		rk, ok := r.(resourceKnower)
		if !ok {
			return nil
		}
		name, known = p.WhoCan.Resource, rk.KnowsResource
	default:
		return nil
	}
	words := strings.Fields(name)
	if len(words) < 2 || known(name) {
		return nil
	}
	// The longest run of words that names something.
	for n := len(words) - 1; n >= 1; n-- {
		for i := 0; i+n <= len(words); i++ {
			sub := strings.Join(words[i:i+n], " ")
			if fillers[sub] || !known(sub) {
				continue
			}
			var rest []string
			if i > 0 {
				rest = append(rest, strings.Join(words[:i], " "))
			}
			if i+n < len(words) {
				rest = append(rest, strings.Join(words[i+n:], " "))
			}
			q := *p
			switch {
			case q.Reach != nil:
				r := *q.Reach
				r.From = sub
				q.Reach = &r
			default:
				w := *q.WhoCan
				w.Resource = sub
				q.WhoCan = &w
			}
			return &UnmappedError{Question: question, Reason: "words not understood", Understood: Describe(&q, DescribeOptions{}), Unknown: rest}
		}
	}
	return nil
}

// Typed implements typedResolver over every node of the index.
func (r *indexResolver) Typed(name, noun string) []string {
	r.typedOnce.Do(func() {
		r.allByName = map[string][]int32{}
		for i := range int32(r.ix.NumNodes()) {
			k := strings.ToLower(r.ix.NodeName(i))
			r.allByName[k] = append(r.allByName[k], int32(i))
		}
	})
	var out []string
	for _, i := range r.allByName[strings.ToLower(name)] {
		if n := r.ix.Node(i); ofType(&n, noun) {
			out = append(out, n.ID)
		}
	}
	return out
}

// KnowsResource reports whether name (case-insensitive) is part of a
// node's id or name or of a grant's resource, as the who-can executor
// matches resources.
func (r *indexResolver) KnowsResource(name string) bool {
	low := strings.ToLower(name)
	r.resOnce.Do(func() {
		seen := map[string]bool{}
		add := func(s string) {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" && !seen[s] {
				seen[s] = true
				r.resources = append(r.resources, s)
			}
		}
		for i := range int32(r.ix.NumNodes()) {
			add(r.ix.NodeID(i))
			add(r.ix.NodeName(i))
		}
		for i := range int32(r.ix.NumEdges()) {
			for _, s := range strings.Split(r.ix.Edge(i).Resource, ",") {
				add(s)
			}
		}
	})
	for _, s := range r.resources {
		if strings.Contains(s, low) {
			return true
		}
	}
	return false
}
