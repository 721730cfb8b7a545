package aws

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/steward-oss/steward/connectors/aws/awsid"
	"github.com/steward-oss/steward/graph"
)

// Attribute keys this connector sets besides the shared graph.Attr* ones.
const (
	attrUserID             = "user_id"
	attrPath               = "path"
	attrBoundary           = "permissions_boundary"
	attrBoundaryUnresolved = "permissions_boundary_unresolved"
	attrEffective          = "effective_privilege"
	attrEffectiveCond      = "effective_privilege_conditional"
	attrConsole            = "console_password"
	attrPasswordLastUsed   = "password_last_used"
	attrPasswordChanged    = "password_last_changed"
	attrPasswordRotation   = "password_next_rotation"
	attrLastUsedRegion     = "last_used_region"
	attrLastUsedService    = "last_used_service"
	attrSlot               = "slot"
	attrSid                = "sid"
	attrCondition          = "condition"
	attrPolicyType         = "policy_type"
	attrUnresolved         = "unresolved"
	attrDefaultVersion     = "default_version"
	attrSubject            = "sub"
	attrAudience           = "aud"
	attrProvider           = "provider"
	attrTrustUnresolved    = "trust_unresolved"
	attrServiceLinked      = "service_linked"
	attrExternal           = "external"
	notActionPrefix        = "NotAction:"
	notResourcePrefix      = "NotResource:"
	subtypeAccessKey       = "access_key"
	subtypeCertificate     = "certificate"
	subtypeInstanceProf    = "instance_profile"
	subtypeWorkloadID      = "workload_identity"
	subtypeService         = "aws_service"
	subtypeServiceLinked   = "service_linked"
	subtypeIAMRole         = "iam_role"
	subtypeRoot            = "root"
	subtypeOIDCProvider    = "oidc_provider"
	subtypeSAMLProvider    = "saml_provider"
	subtypeExternalAcct    = "external"
	subtypeAnyone          = "public"
	anyoneNodeID           = "aws:anyone"
	githubOIDCHost         = "token.actions.githubusercontent.com"
	administratorAccessID  = "arn:aws:iam::aws:policy/AdministratorAccess"
	rootUserName           = "<root_account>"
)

// builtinPolicies are AWS-managed policy documents the reader knows by ARN
// for exports that attach them without listing them in Policies (seen in
// real exports filtered to customer-managed policies). AdministratorAccess
// is documented by AWS as this single statement and has never changed.
var builtinPolicies = map[string]string{
	administratorAccessID: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
}

// liveKey is an access key as ListAccessKeys and GetAccessKeyLastUsed
// describe it; only the live path knows key ids.
type liveKey struct {
	ID       string
	Active   bool
	Created  time.Time
	LastUsed time.Time
	Region   string
	Service  string
}

// input is everything one Read gathered, in file form. The live path fills
// the same struct from SDK output so both share the code below.
type input struct {
	details      authzDetails
	detailsName  string
	report       []reportRow
	reportName   string
	liveKeys     map[string][]liveKey // by user ARN
	roleLastUsed map[string]time.Time // by role ARN
	extra        []*graph.Subgraph    // CloudTrail facts to merge, by source
}

// principal is a user, group or role under evaluation.
type principal struct {
	id      string
	account string
	kind    graph.Kind
	set     PolicySet
	admin   bool
	adminC  bool
	// denySig identifies the Denies and boundary that shape this
	// principal's grants, so principals sharing them share results.
	denySig string
	inline  []namedDoc
	group   *groupDetail // for groups
	// boundaryUnresolved: the boundary's document is not in the export.
	boundaryUnresolved bool
}

type namedDoc struct {
	name string
	doc  *Document
}

// parsedPolicy is a managed policy's default version, parsed.
type parsedPolicy struct {
	arn      string
	name     string
	account  string // "aws" for AWS-managed
	doc      *Document
	mp       *managedPolicy
	resolved bool
	holders  []*principal
}

type builder struct {
	in        *input
	graphs    map[string]*graph.Subgraph // by account
	seen      map[string]map[string]bool // account -> node ids
	nodeIdx   map[string]map[string]int  // account -> node id -> index in Nodes
	policies  map[string]*parsedPolicy   // by ARN
	loaded    map[string]bool            // accounts with IAM data in this read
	polAccts  map[string][]string        // policy ARN -> accounts holding its node
	evaluated []*principal
	edgeIndex map[string]map[edgeKey]int
}

func accountOf(arn string) (string, error) {
	a, err := awsid.ParseARN(arn)
	if err != nil {
		return "", err
	}
	if a.Account == "" {
		return "", fmt.Errorf("ARN %q has no account", arn)
	}
	return a.Account, nil
}

// build turns the input into one subgraph per account. It either returns
// complete subgraphs or an error naming the bad input; nothing partial.
func build(in *input) ([]*graph.Subgraph, error) {
	b := newBuilder(in)
	return b.run()
}

func newBuilder(in *input) *builder {
	return &builder{
		in: in, graphs: map[string]*graph.Subgraph{}, seen: map[string]map[string]bool{}, nodeIdx: map[string]map[string]int{},
		policies: map[string]*parsedPolicy{},
		loaded:   map[string]bool{}, edgeIndex: map[string]map[edgeKey]int{}, polAccts: map[string][]string{},
	}
}

func (b *builder) run() ([]*graph.Subgraph, error) {
	if err := b.indexAccounts(); err != nil {
		return nil, err
	}
	if err := b.parsePolicies(); err != nil {
		return nil, err
	}
	principals, err := b.principals()
	if err != nil {
		return nil, err
	}
	b.evaluated = principals
	b.emitPolicies()
	b.emitGrants(principals)
	if err := b.emitRoles(); err != nil {
		return nil, err
	}
	b.emitReport()
	b.emitLiveKeys()
	b.mergeExtra()
	out := make([]*graph.Subgraph, 0, len(b.graphs))
	for _, acct := range slices.Sorted(maps.Keys(b.graphs)) {
		sg := b.graphs[acct]
		sg.Normalize()
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("aws: account %s: %w", acct, err)
		}
		out = append(out, sg)
	}
	return out, nil
}

// sg returns the subgraph of account, creating it with its account node.
func (b *builder) sg(account string) *graph.Subgraph {
	if g, ok := b.graphs[account]; ok {
		return g
	}
	g := &graph.Subgraph{Source: awsid.SourceName(account)}
	b.graphs[account] = g
	b.seen[account] = map[string]bool{}
	b.nodeIdx[account] = map[string]int{}
	b.edgeIndex[account] = map[edgeKey]int{}
	b.addNode(account, graph.Node{ID: awsid.AccountNodeID(account), Kind: graph.KindAccount, Name: account,
		Attrs: map[string]string{graph.AttrARN: "arn:aws:iam::" + account + ":root"}})
	return g
}

// addNode adds n to account's subgraph unless a node with its id is there.
func (b *builder) addNode(account string, n graph.Node) bool {
	g := b.sg(account)
	if b.seen[account][n.ID] {
		return false
	}
	b.seen[account][n.ID] = true
	b.nodeIdx[account][n.ID] = len(g.Nodes)
	g.AddNode(n)
	return true
}

// addEdge adds e, merging it with an earlier edge of the same key: the
// merged grant is conditional only if both were, and keeps the stronger
// privilege, so no fact is dropped by Normalize's de-duplication.
func (b *builder) addEdge(account string, e graph.Edge) {
	g := b.sg(account)
	k := edgeKey{e.Kind, e.From, e.To, e.Action, e.Resource, e.Effect}
	if i, ok := b.edgeIndex[account][k]; ok {
		old := &g.Edges[i]
		old.Conditional = old.Conditional && e.Conditional
		if e.Privilege.Rank() > old.Privilege.Rank() {
			old.Privilege = e.Privilege
		}
		if e.LastSeen.After(old.LastSeen) {
			old.LastSeen = e.LastSeen
		}
		for ak, av := range e.Attrs {
			if ov, ok := old.Attrs[ak]; ok && ov != av && (ak == graph.AttrVia || ak == attrSid || ak == attrCondition) {
				old.Attrs[ak] = mergeList(ov, av)
			} else if !ok {
				if old.Attrs == nil {
					old.Attrs = map[string]string{}
				}
				old.Attrs[ak] = av
			}
		}
		return
	}
	b.edgeIndex[account][k] = len(g.Edges)
	g.AddEdge(e)
}

// edgeKey is graph.Edge.Key as a struct, which shares the edge's strings
// instead of concatenating a new one per edge.
type edgeKey struct {
	kind                               graph.EdgeKind
	from, to, action, resource, effect string
}

func mergeList(a, b string) string {
	parts := append(strings.Split(a, "|"), strings.Split(b, "|")...)
	return strings.Join(sortedUnique(parts), "|")
}

func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// indexAccounts finds the accounts present and checks every entity has a
// name and a usable ARN, naming the JSON path of the first that does not.
func (b *builder) indexAccounts() error {
	d := &b.in.details
	check := func(list string, i int, arn, nameField, name string) error {
		if name == "" {
			return fmt.Errorf("aws: authorization-details %q: $.%s[%d].%s: missing", b.in.detailsName, list, i, nameField)
		}
		acct, err := accountOf(arn)
		if err != nil {
			return fmt.Errorf("aws: authorization-details %q: $.%s[%d].Arn: %w", b.in.detailsName, list, i, err)
		}
		b.loaded[acct] = true
		b.sg(acct)
		return nil
	}
	for i, u := range d.UserDetailList {
		if err := check("UserDetailList", i, u.Arn, "UserName", u.UserName); err != nil {
			return err
		}
	}
	for i, g := range d.GroupDetailList {
		if err := check("GroupDetailList", i, g.Arn, "GroupName", g.GroupName); err != nil {
			return err
		}
	}
	for i, r := range d.RoleDetailList {
		if err := check("RoleDetailList", i, r.Arn, "RoleName", r.RoleName); err != nil {
			return err
		}
	}
	for _, row := range b.in.report {
		acct, err := accountOf(row.ARN)
		if err != nil {
			return fmt.Errorf("aws: credential-report %q: line %d: column \"arn\": %w", b.in.reportName, row.Line, err)
		}
		b.loaded[acct] = true
		b.sg(acct)
	}
	return nil
}

// parsePolicies parses the default version of every managed policy.
func (b *builder) parsePolicies() error {
	d := &b.in.details
	for i := range d.Policies {
		mp := &d.Policies[i]
		a, err := awsid.ParseARN(mp.Arn)
		if err != nil {
			return fmt.Errorf("aws: authorization-details %q: $.Policies[%d].Arn: %w", b.in.detailsName, i, err)
		}
		pp := &parsedPolicy{arn: mp.Arn, name: mp.PolicyName, account: a.Account, mp: mp}
		for j, v := range mp.PolicyVersionList {
			if !v.IsDefaultVersion {
				continue
			}
			doc, err := ParseDocument(v.Document)
			if err != nil {
				return fmt.Errorf("aws: authorization-details %q: $.Policies[%d].PolicyVersionList[%d].Document (policy %q): %w",
					b.in.detailsName, i, j, mp.PolicyName, err)
			}
			pp.doc, pp.resolved = doc, true
		}
		if prev, dup := b.policies[mp.Arn]; dup && prev.resolved && !pp.resolved {
			continue
		}
		b.policies[mp.Arn] = pp
	}
	return nil
}

// policy returns the parsed managed policy for arn, falling back to the
// builtin documents and finally to an unresolved placeholder.
func (b *builder) policy(arn, name string) *parsedPolicy {
	if p, ok := b.policies[arn]; ok {
		return p
	}
	a, _ := awsid.ParseARN(arn)
	p := &parsedPolicy{arn: arn, name: name, account: a.Account}
	if src, ok := builtinPolicies[arn]; ok {
		doc, err := ParseDocument([]byte(src))
		if err != nil {
			panic("aws: builtin policy " + arn + ": " + err.Error())
		}
		p.doc, p.resolved = doc, true
	}
	b.policies[arn] = p
	return p
}

func (p *parsedPolicy) statements() []Statement {
	if p.doc == nil {
		return nil
	}
	return p.doc.Statement
}
