package ldaptest

import (
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

func TestServer(t *testing.T) {
	s := Start(t, Config{SizeLimit: 3})
	var ldif strings.Builder
	ldif.WriteString("dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
	ldif.WriteString("dn: cn=reader,dc=example,dc=com\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: not-a-real-password\n\n")
	for i := 0; i < 7; i++ {
		fmt.Fprintf(&ldif, "dn: cn=u%d,ou=people,dc=example,dc=com\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\ncn: u%d\nsn: u%d\nsAMAccountName: u%d\nuserAccountControl: 512\nservicePrincipalName: HTTP/u%d.example.com\n\n", i, i, i, i, i)
	}
	s.Seed(t, ldif.String())

	search := func(conn *goldap.Conn, page uint32) (*goldap.SearchResult, error) {
		req := goldap.NewSearchRequest("ou=people,"+s.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			0, 0, false, "(objectClass=user)", []string{"sAMAccountName"}, nil)
		if page == 0 {
			return conn.Search(req)
		}
		return conn.SearchWithPaging(req, page)
	}
	bindReader := func(t *testing.T, url string) *goldap.Conn {
		opts := []goldap.DialOpt{}
		if strings.HasPrefix(url, "ldaps") {
			opts = append(opts, goldap.DialWithTLSConfig(s.TLSConfig()))
		}
		conn, err := goldap.DialURL(url, opts...)
		if err != nil {
			t.Fatalf("dial %s: %v", url, err)
		}
		t.Cleanup(func() { conn.Close() })
		if err := conn.Bind("cn=reader,"+s.BaseDN, "not-a-real-password"); err != nil {
			t.Fatalf("bind: %v", err)
		}
		return conn
	}

	tests := []struct {
		name    string
		url     string
		page    uint32
		want    int
		wantErr uint16
	}{
		{name: "unpaged search hits the size limit", url: s.URL, page: 0, wantErr: goldap.LDAPResultSizeLimitExceeded},
		{name: "paged search returns every entry", url: s.URL, page: 3, want: 7},
		{name: "ldaps with the generated certificate", url: s.LDAPSURL, page: 2, want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := search(bindReader(t, tt.url), tt.page)
			if tt.wantErr != 0 {
				if !goldap.IsErrorWithCode(err, tt.wantErr) {
					t.Fatalf("err = %v, want result code %d", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Entries) != tt.want {
				t.Fatalf("got %d entries, want %d", len(res.Entries), tt.want)
			}
		})
	}

	t.Run("userPassword is not readable by users", func(t *testing.T) {
		conn := bindReader(t, s.URL)
		res, err := conn.Search(goldap.NewSearchRequest("cn=reader,"+s.BaseDN, goldap.ScopeBaseObject,
			goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"userPassword"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 1 || len(res.Entries[0].GetAttributeValues("userPassword")) != 0 {
			t.Fatalf("userPassword visible: %+v", res.Entries)
		}
	})

	t.Run("schema rejects a non-integer userAccountControl", func(t *testing.T) {
		req := goldap.NewAddRequest("cn=bad,ou=people,"+s.BaseDN, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("cn", []string{"bad"})
		req.Attribute("sn", []string{"bad"})
		req.Attribute("userAccountControl", []string{"enabled"})
		if err := s.Conn(t).Add(req); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidAttributeSyntax) {
			t.Fatalf("add = %v, want invalid attribute syntax", err)
		}
	})
}
