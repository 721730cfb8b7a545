package ldap

import (
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
)

// OpenLDAP never splits attribute values, so AD's range retrieval
// (MS-ADTS 3.1.1.3.1.3.3) is tested against a minimal LDAP server speaking
// the wire protocol: it answers binds, and searches with the entries and
// the "member;range=lo-hi" slices a domain controller with a small
// MaxValRange would send. The connector talks to it through go-ldap, as to
// a real DC.

type fakeAttr struct {
	name   string
	values []string
}

type fakeEntry struct {
	dn    string
	attrs []fakeAttr
}

type fakeDC struct {
	// subtree answers the connector's subtree search.
	subtree []fakeEntry
	// ranges answers a base-object search asking for one attribute, by
	// the requested attribute description ("member;range=2-*").
	ranges map[string]fakeEntry

	mu        sync.Mutex
	requested []string // attribute lists of base-object searches, in order
}

func (f *fakeDC) serve(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.handle(c)
		}
	}()
	return "ldap://" + l.Addr().String()
}

func (f *fakeDC) handle(c net.Conn) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id := p.Children[0].Value.(int64)
		op := p.Children[1]
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			c.Write(envelope(id, result(goldap.ApplicationBindResponse, goldap.LDAPResultSuccess)).Bytes())
		case goldap.ApplicationSearchRequest:
			base := op.Children[0].Data.String()
			scope := op.Children[1].Value.(int64)
			var attrs []string
			for _, a := range op.Children[7].Children {
				attrs = append(attrs, a.Data.String())
			}
			var out []fakeEntry
			if scope == int64(goldap.ScopeBaseObject) {
				f.mu.Lock()
				f.requested = append(f.requested, strings.Join(attrs, ","))
				f.mu.Unlock()
				if e, ok := f.ranges[strings.Join(attrs, ",")]; ok && strings.EqualFold(e.dn, base) {
					out = append(out, e)
				}
			} else {
				out = f.subtree
			}
			for _, e := range out {
				c.Write(envelope(id, entryPacket(e)).Bytes())
			}
			c.Write(envelope(id, result(goldap.ApplicationSearchResultDone, goldap.LDAPResultSuccess)).Bytes())
		default: // unbind, abandon
			return
		}
	}
}

func envelope(id int64, op *ber.Packet) *ber.Packet {
	p := ber.NewSequence("LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "messageID"))
	p.AppendChild(op)
	return p
}

func result(tag ber.Tag, code uint16) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "result")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "resultCode"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
	return p
}

func entryPacket(e fakeEntry) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "entry")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.dn, "objectName"))
	attrs := ber.NewSequence("attributes")
	for _, a := range e.attrs {
		pa := ber.NewSequence("partialAttribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.name, "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a.values {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		pa.AppendChild(vals)
		attrs.AppendChild(pa)
	}
	p.AppendChild(attrs)
	return p
}

const bigGroup = "CN=Big Group,OU=Groups,DC=example,DC=com"

func userDN(i int) string { return "CN=u" + string(rune('0'+i)) + ",OU=People,DC=example,DC=com" }

func fakeDirectory(first fakeAttr, ranges map[string]fakeEntry) *fakeDC {
	f := &fakeDC{ranges: ranges}
	f.subtree = append(f.subtree, fakeEntry{dn: bigGroup, attrs: []fakeAttr{
		{"objectClass", []string{"top", "group"}}, {"cn", []string{"Big Group"}},
		{"sAMAccountName", []string{"Big Group"}}, first,
	}})
	for i := 0; i < 5; i++ {
		n := "u" + string(rune('0'+i))
		f.subtree = append(f.subtree, fakeEntry{dn: userDN(i), attrs: []fakeAttr{
			{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
			{"cn", []string{n}}, {"sAMAccountName", []string{n}}, {"userAccountControl", []string{"512"}},
		}})
	}
	return f
}

func TestRangedRetrieval(t *testing.T) {
	pw := connectortest.WriteTemp(t, "pw", "fake-dc-password")
	opts := func(url string) connectors.Options {
		return connectors.Options{"url": url, "base-dn": "dc=example,dc=com", "bind-dn": "cn=reader,dc=example,dc=com", "password-file": pw}
	}

	t.Run("every slice is fetched", func(t *testing.T) {
		f := fakeDirectory(fakeAttr{"member;range=0-1", []string{userDN(0), userDN(1)}}, map[string]fakeEntry{
			"member;range=2-*": {dn: bigGroup, attrs: []fakeAttr{{"member;range=2-3", []string{userDN(2), userDN(3)}}}},
			"member;range=4-*": {dn: bigGroup, attrs: []fakeAttr{{"member;range=4-*", []string{userDN(4)}}}},
		})
		url := f.serve(t)
		sgs := connectortest.Suite(t, func() connectors.Reader { return newReader(t, opts(url)) }, []string{"fake-dc-password"})
		group := id("cn=big group,ou=groups,dc=example,dc=com")
		for i := 0; i < 5; i++ {
			from := id(strings.ToLower(userDN(i)))
			if len(connectortest.Edges(sgs, graph.EdgeMemberOf, from, group)) != 1 {
				t.Errorf("member %d missing", i)
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		want := []string{"member;range=2-*", "member;range=4-*", "member;range=2-*", "member;range=4-*"} // two reads
		if !reflect.DeepEqual(f.requested, want) {
			t.Errorf("range requests %v, want %v", f.requested, want)
		}
	})

	bad := []struct {
		name   string
		first  fakeAttr
		ranges map[string]fakeEntry
		want   []string
	}{
		{name: "slice that skips values", first: fakeAttr{"member;range=0-1", []string{userDN(0), userDN(1)}},
			ranges: map[string]fakeEntry{"member;range=2-*": {dn: bigGroup, attrs: []fakeAttr{{"member;range=3-*", []string{userDN(3)}}}}},
			want:   []string{bigGroup, "member;range=3-*", "from 2"}},
		{name: "server stops answering slices", first: fakeAttr{"member;range=0-1", []string{userDN(0), userDN(1)}},
			want: []string{bigGroup, "member;range=2-*", "returned 0 entries"}},
		{name: "other attribute options", first: fakeAttr{"member;binary", []string{userDN(0)}},
			want: []string{bigGroup, "member;binary", "unsupported attribute option"}},
		{name: "first slice not at 0", first: fakeAttr{"member;range=5-*", []string{userDN(0)}},
			want: []string{bigGroup, "member;range=5-*"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeDirectory(tt.first, tt.ranges).serve(t)
			connectortest.Bad(t, newReader(t, opts(url)), tt.want...)
		})
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in            string
		attr          string
		lo, hi        int
		last, wantErr bool
	}{
		{in: "member;range=0-1499", attr: "member", lo: 0, hi: 1499},
		{in: "member;range=1500-*", attr: "member", lo: 1500, last: true},
		{in: "member;binary", wantErr: true},
		{in: "member;range=5-2", wantErr: true},
		{in: "member;range=x-2", wantErr: true},
		{in: "member;range=-1-2", wantErr: true},
		{in: "member;range=3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			attr, lo, hi, last, err := parseRange(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (attr != tt.attr || lo != tt.lo || hi != tt.hi || last != tt.last) {
				t.Fatalf("parseRange = %q %d %d %v", attr, lo, hi, last)
			}
		})
	}
}
