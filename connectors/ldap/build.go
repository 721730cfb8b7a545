package ldap

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/graph"
)

// Attribute keys this connector sets besides the shared graph.Attr* ones.
const (
	AttrDN                 = "dn"                      // normalized (lower-case) DN, the key owner resolution matches managed_by against
	AttrSAMAccountName     = "sam_account_name"        // AD logon name
	AttrUserPrincipalName  = "user_principal_name"     // AD UPN, lower-case
	AttrSPNs               = "service_principal_names" // sorted, comma-separated
	AttrUserAccountControl = "user_account_control"    // decimal, as read; an approval snapshots it
	AttrDNSHostName        = "dns_host_name"
	AttrObjectSID          = "object_sid" // "S-1-5-21-...", when the entry has objectSid
	AttrWellKnownGroup     = "well_known_group"
	AttrBaseDN             = "base_dn"
)

// Node subtypes.
const (
	SubtypeGMSA     = "gmsa"     // msDS-GroupManagedServiceAccount
	SubtypeMSA      = "msa"      // msDS-ManagedServiceAccount (standalone)
	SubtypeComputer = "computer" // machine account
)

// userAccountControl bits (MS-ADTS 2.2.16) the connector and the actuator use.
const (
	uacAccountDisable     = 0x0002
	uacDontExpirePassword = 0x10000
	uacMax                = 0xFFFFFFFF
)

// Admin groups: membership in any of them, however nested, is control of
// the whole directory. They are found by well-known SID when the entry
// carries objectSid (names are localized in non-English domains), else by
// sAMAccountName, else by cn.
var adminGroups = []struct {
	key  string
	name string
	// sidRID matches a domain SID ending in -RID; sid matches exactly.
	sidRID uint32
	sid    string
}{
	{key: "domain_admins", name: "domain admins", sidRID: 512},
	{key: "enterprise_admins", name: "enterprise admins", sidRID: 519},
	{key: "administrators", name: "administrators", sid: "S-1-5-32-544"},
}

// requested lists the attributes read; anything else an entry has
// (userPassword, unicodePwd, description, which admins are known to fill
// with passwords) is never read, so it cannot reach the graph.
var requested = []string{
	"objectClass", "cn", "uid", "sAMAccountName", "userPrincipalName", "mail",
	"servicePrincipalName", "userAccountControl", "lastLogonTimestamp", "pwdLastSet",
	"accountExpires", "whenCreated", "createTimestamp", "managedBy", "member", "memberOf",
	"objectSid", "dNSHostName",
}

var requestedSet = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range requested {
		m[strings.ToLower(a)] = true
	}
	return m
}()

// classes of entry the connector turns into nodes.
type class int

const (
	classOther class = iota
	classADAccount
	classPerson
	classGroup
)

func classify(oc map[string]bool) class {
	switch {
	case oc["group"] || oc["groupofnames"]:
		return classGroup
	case oc["user"] || oc["computer"] || oc["msds-managedserviceaccount"] || oc["msds-groupmanagedserviceaccount"]:
		return classADAccount
	case oc["contact"]:
		return classOther // an address book card, not a login
	case oc["person"] || oc["organizationalperson"] || oc["inetorgperson"]:
		return classPerson
	}
	return classOther
}

// normDN is the canonical form used in node ids and attrs: RFC 4514
// escaping and lower case, since DN matching in AD and OpenLDAP naming
// attributes is case-insensitive and member values are not necessarily
// written in the case of the entry they name.
func normDN(dn string) (string, error) {
	d, err := goldap.ParseDN(dn)
	if err != nil {
		return "", err
	}
	if len(d.RDNs) == 0 {
		return "", fmt.Errorf("empty DN")
	}
	return strings.ToLower(d.String()), nil
}

// scopeOf names the source: "example.com" for a base DN made only of dc
// components, else the normalized base DN, so that two readers of
// different OUs of one domain are two sources and do not replace each
// other's subgraph.
func scopeOf(baseDN string) (string, error) {
	d, err := goldap.ParseDN(baseDN)
	if err != nil {
		return "", fmt.Errorf("ldap: base-dn %q: %w", baseDN, err)
	}
	var labels []string
	for _, r := range d.RDNs {
		if len(r.Attributes) != 1 || !strings.EqualFold(r.Attributes[0].Type, "dc") {
			labels = nil
			break
		}
		labels = append(labels, strings.ToLower(r.Attributes[0].Value))
	}
	if len(labels) > 0 {
		return strings.Join(labels, "."), nil
	}
	n, err := normDN(baseDN)
	if err != nil {
		return "", fmt.Errorf("ldap: base-dn %q: %w", baseDN, err)
	}
	return n, nil
}

// SourceName is the subgraph source for a base DN: "ldap:example.com".
func SourceName(baseDN string) (string, error) {
	scope, err := scopeOf(baseDN)
	if err != nil {
		return "", err
	}
	return "ldap:" + scope, nil
}

// NodeID is the graph id of the entry dn in the source of baseDN.
func NodeID(baseDN, dn string) (string, error) {
	src, err := SourceName(baseDN)
	if err != nil {
		return "", err
	}
	n, err := normDN(dn)
	if err != nil {
		return "", fmt.Errorf("ldap: dn %q: %w", dn, err)
	}
	return src + ":" + n, nil
}

// inferBaseDN finds the dc= suffix every entry shares, for an LDIF file
// read without base-dn.
func inferBaseDN(file string, entries []*entry) (string, error) {
	var common []string
	for i, e := range entries {
		d, err := goldap.ParseDN(e.DN)
		if err != nil {
			return "", &EntryError{Where: e.Where, DN: e.DN, Msg: "unparsable DN: " + err.Error()}
		}
		var dcs []string
		for j := len(d.RDNs) - 1; j >= 0; j-- {
			r := d.RDNs[j]
			if len(r.Attributes) != 1 || !strings.EqualFold(r.Attributes[0].Type, "dc") {
				break
			}
			dcs = append(dcs, "dc="+strings.ToLower(r.Attributes[0].Value))
		}
		if i == 0 {
			common = dcs
			continue
		}
		k := 0
		for k < len(common) && k < len(dcs) && common[k] == dcs[k] {
			k++
		}
		common = common[:k]
	}
	if len(common) == 0 {
		return "", fmt.Errorf("ldap: %s: entries share no dc= suffix; set base-dn", file)
	}
	for i, j := 0, len(common)-1; i < j; i, j = i+1, j-1 {
		common[i], common[j] = common[j], common[i]
	}
	return strings.Join(common, ","), nil
}

type parsed struct {
	e     *entry
	id    string
	class class
	node  graph.Node
}

// build turns directory entries into the subgraph of baseDN. Any entry
// the connector cannot read faithfully fails the whole build.
func build(baseDN string, entries []*entry, log *slog.Logger) (*graph.Subgraph, error) {
	source, err := SourceName(baseDN)
	if err != nil {
		return nil, err
	}
	base, _ := goldap.ParseDN(baseDN)
	sg := &graph.Subgraph{Source: source}
	accountID := source
	scope := strings.TrimPrefix(source, "ldap:")

	byDN := map[string]*parsed{}
	var order []*parsed
	for _, e := range entries {
		d, err := goldap.ParseDN(e.DN)
		if err != nil {
			return nil, &EntryError{Where: e.Where, DN: e.DN, Msg: "unparsable DN: " + err.Error()}
		}
		if !base.AncestorOfFold(d) && !base.EqualFold(d) {
			return nil, &EntryError{Where: e.Where, DN: e.DN, Msg: fmt.Sprintf("outside base DN %q", baseDN)}
		}
		n, _ := normDN(e.DN)
		if prev, dup := byDN[n]; dup {
			return nil, &EntryError{Where: e.Where, DN: e.DN, Msg: "duplicate of entry " + prev.e.Where + " " + prev.e.DN}
		}
		for name := range e.Attrs {
			if base, _, ok := strings.Cut(name, ";"); ok && requestedSet[base] {
				// a file holding "member;range=0-1499" holds only a slice
				return nil, &EntryError{Where: e.Where, DN: e.DN, Attr: name,
					Msg: "attribute options (ranges) are not supported in an export: export the full values"}
			}
		}
		ocs := e.values("objectClass")
		if len(ocs) == 0 {
			return nil, &EntryError{Where: e.Where, DN: e.DN, Attr: "objectClass", Msg: "missing"}
		}
		oc := map[string]bool{}
		for _, c := range ocs {
			oc[strings.ToLower(c)] = true
		}
		p := &parsed{e: e, id: source + ":" + n, class: classify(oc)}
		if p.class == classOther {
			continue
		}
		node, err := entryNode(p, oc, n)
		if err != nil {
			return nil, err
		}
		p.node = node
		byDN[n] = p
		order = append(order, p)
	}

	sg.AddNode(graph.Node{ID: accountID, Kind: graph.KindAccount, Name: scope,
		Attrs: map[string]string{AttrBaseDN: strings.ToLower(base.String())}})
	edges := map[string]graph.Edge{}
	add := func(e graph.Edge) { edges[e.Key()] = e }
	unknown := 0
	for _, p := range order {
		sg.AddNode(p.node)
		add(graph.Edge{From: p.id, To: accountID, Kind: graph.EdgeInAccount})
		// member on groups and memberOf (in exports that carry the
		// back-link) describe the same relation; both are read and merged.
		var links []struct{ member, group, attr string }
		if p.class == classGroup {
			for _, m := range p.e.values("member") {
				links = append(links, struct{ member, group, attr string }{m, p.e.DN, "member"})
			}
		}
		for _, g := range p.e.values("memberOf") {
			links = append(links, struct{ member, group, attr string }{p.e.DN, g, "memberOf"})
		}
		for _, l := range links {
			m, err1 := normDN(l.member)
			g, err2 := normDN(l.group)
			if err1 != nil || err2 != nil {
				return nil, &EntryError{Where: p.e.Where, DN: p.e.DN, Attr: l.attr, Msg: fmt.Sprintf("unparsable DN value %q", firstNonEmpty(errValue(err1, l.member), errValue(err2, l.group)))}
			}
			mp, gp := byDN[m], byDN[g]
			if mp == nil || gp == nil || gp.class != classGroup {
				// a member outside the base DN or of a class the
				// connector does not read (foreignSecurityPrincipal)
				unknown++
				continue
			}
			add(graph.Edge{From: mp.id, To: gp.id, Kind: graph.EdgeMemberOf})
		}
		if p.class == classGroup {
			if key := p.node.Attrs[AttrWellKnownGroup]; key != "" {
				add(graph.Edge{From: p.id, To: accountID, Kind: graph.EdgeGrants, Action: "*", Resource: "*",
					Effect: graph.EffectAllow, Privilege: graph.PrivAdmin,
					Attrs: map[string]string{graph.AttrVia: p.node.Name}})
			}
		}
	}
	if unknown > 0 {
		log.Debug("ldap: membership values naming entries outside the read set were skipped",
			"source", source, "count", unknown)
	}
	for _, k := range slices.Sorted(maps.Keys(edges)) {
		sg.AddEdge(edges[k])
	}
	sg.Normalize()
	return sg, nil
}

func errValue(err error, v string) string {
	if err != nil {
		return v
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// entryNode maps one account or group entry to its node.
func entryNode(p *parsed, oc map[string]bool, ndn string) (graph.Node, error) {
	e := p.e
	fail := func(attr, msg string) (graph.Node, error) {
		return graph.Node{}, &EntryError{Where: e.Where, DN: e.DN, Attr: attr, Msg: msg}
	}
	n := graph.Node{ID: p.id, Attrs: map[string]string{AttrDN: ndn}}
	sam := strings.TrimSpace(e.first("sAMAccountName"))
	if sam != "" {
		n.Attrs[AttrSAMAccountName] = sam
	}
	switch p.class {
	case classGroup:
		cn := strings.TrimSpace(e.first("cn"))
		if cn == "" {
			return fail("cn", "missing")
		}
		n.Kind, n.Name = graph.KindGroup, cn
	case classADAccount:
		if sam == "" {
			return fail("sAMAccountName", "missing")
		}
		n.Name = sam
		switch {
		case oc["msds-groupmanagedserviceaccount"]:
			n.Kind, n.Subtype = graph.KindServiceAccount, SubtypeGMSA
		case oc["msds-managedserviceaccount"]:
			n.Kind, n.Subtype = graph.KindServiceAccount, SubtypeMSA
		case oc["computer"]:
			n.Kind, n.Subtype = graph.KindServiceAccount, SubtypeComputer
		case len(e.values("servicePrincipalName")) > 0:
			// a user object with an SPN runs a service (and is
			// Kerberoastable); people do not have SPNs
			n.Kind = graph.KindServiceAccount
		default:
			n.Kind = graph.KindUser
		}
	case classPerson:
		name := strings.TrimSpace(e.first("uid"))
		if name == "" {
			name = strings.TrimSpace(e.first("cn"))
		}
		if name == "" {
			return fail("cn", "missing (neither uid nor cn)")
		}
		n.Name = name
		n.Kind = graph.KindUser
		if len(e.values("servicePrincipalName")) > 0 {
			n.Kind = graph.KindServiceAccount
		}
	}

	if v := e.values("userAccountControl"); len(v) > 0 {
		if len(v) > 1 {
			return fail("userAccountControl", "more than one value")
		}
		// AD returns the flags as a signed 32-bit integer on some paths
		uac, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
		if err != nil || uac < -1<<31 || uac > uacMax {
			return fail("userAccountControl", fmt.Sprintf("not a 32-bit integer: %q", v[0]))
		}
		flags := uint32(uac)
		n.Attrs[AttrUserAccountControl] = strconv.FormatUint(uint64(flags), 10)
		if flags&uacAccountDisable != 0 {
			n.Status = graph.StatusDisabled
		}
		if flags&uacDontExpirePassword != 0 {
			n.Attrs[graph.AttrPasswordNever] = "true"
		}
	}
	for _, f := range []struct {
		attr string
		dst  *time.Time
	}{
		{"lastLogonTimestamp", &n.LastUsedAt},
		{"pwdLastSet", &n.RotatedAt},
		{"accountExpires", &n.ExpiresAt},
	} {
		if v := e.first(f.attr); v != "" {
			t, err := parseFileTime(v)
			if err != nil {
				return fail(f.attr, err.Error())
			}
			*f.dst = t
		}
	}
	// whenCreated is AD's; createTimestamp the standard operational
	// attribute other servers keep.
	for _, a := range []string{"whenCreated", "createTimestamp"} {
		if v := e.first(a); v != "" {
			t, err := parseGeneralizedTime(v)
			if err != nil {
				return fail(a, err.Error())
			}
			n.CreatedAt = t
			break
		}
	}
	if v := e.first("managedBy"); v != "" {
		m, err := normDN(v)
		if err != nil {
			return fail("managedBy", fmt.Sprintf("unparsable DN %q", v))
		}
		n.Attrs[graph.AttrManagedBy] = m
	}
	if v := strings.TrimSpace(e.first("mail")); v != "" {
		n.Attrs[graph.AttrEmail] = strings.ToLower(v)
	}
	if v := strings.TrimSpace(e.first("userPrincipalName")); v != "" {
		n.Attrs[AttrUserPrincipalName] = strings.ToLower(v)
	}
	if v := strings.TrimSpace(e.first("dNSHostName")); v != "" {
		n.Attrs[AttrDNSHostName] = strings.ToLower(v)
	}
	if spns := e.values("servicePrincipalName"); len(spns) > 0 {
		s := append([]string(nil), spns...)
		sort.Strings(s)
		n.Attrs[AttrSPNs] = strings.Join(s, ",")
	}
	var sid string
	if v := e.first("objectSid"); v != "" {
		s, err := sidString([]byte(v))
		if err != nil {
			return fail("objectSid", err.Error())
		}
		sid = s
		n.Attrs[AttrObjectSID] = sid
	}
	if p.class == classGroup {
		if key := wellKnownAdmin(sid, sam, n.Name); key != "" {
			n.Attrs[AttrWellKnownGroup] = key
		}
	}
	return n, nil
}

// wellKnownAdmin returns the admin group key of a group, or "".
func wellKnownAdmin(sid, sam, cn string) string {
	if sid != "" {
		for _, g := range adminGroups {
			if g.sid != "" && sid == g.sid {
				return g.key
			}
			if g.sidRID != 0 && strings.HasPrefix(sid, "S-1-5-21-") &&
				strings.HasSuffix(sid, "-"+strconv.FormatUint(uint64(g.sidRID), 10)) {
				return g.key
			}
		}
		return ""
	}
	name := sam
	if name == "" {
		name = cn
	}
	for _, g := range adminGroups {
		if strings.EqualFold(name, g.name) {
			return g.key
		}
	}
	return ""
}
