package ldap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/connectors/connectortest"
	"github.com/steward-oss/steward/graph"
	"github.com/steward-oss/steward/internal/ldaptest"
)

const (
	readerDN   = "cn=steward-reader,ou=system,dc=example,dc=com"
	actuatorDN = "cn=steward-actuator,ou=system,dc=example,dc=com"
	// sizeLimit is below the number of entries the connector reads (14),
	// so a search that does not page fails with sizeLimitExceeded.
	sizeLimit = 4
)

// directory is a running slapd seeded with the AD fixture, a read-only
// bind account and an actuator account that may write only
// userAccountControl and member.
type directory struct {
	*ldaptest.Server
	readerPW, actuatorPW, caFile string
}

func startDirectory(t *testing.T) *directory {
	t.Helper()
	s := ldaptest.Start(t, ldaptest.Config{
		SizeLimit: sizeLimit,
		Access: []string{
			`access to attrs=userAccountControl,member by dn.exact="` + actuatorDN + `" write by users read by * none`,
		},
	})
	seed, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	s.Seed(t, string(seed))
	// the bind accounts are not persons, so the connector does not read them
	s.Seed(t, `dn: ou=system,dc=example,dc=com
objectClass: organizationalUnit
ou: system

dn: `+readerDN+`
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: steward-reader
userPassword: reader-test-password

dn: `+actuatorDN+`
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: steward-actuator
userPassword: actuator-test-password
`)
	dir := t.TempDir()
	d := &directory{Server: s,
		readerPW:   filepath.Join(dir, "reader.pw"),
		actuatorPW: filepath.Join(dir, "actuator.pw"),
		caFile:     filepath.Join(dir, "ca.pem"),
	}
	for path, data := range map[string][]byte{d.readerPW: []byte("reader-test-password\n"),
		d.actuatorPW: []byte("actuator-test-password\n"), d.caFile: s.CACertPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d *directory) readerOpts(extra connectors.Options) connectors.Options {
	o := connectors.Options{"url": d.URL, "bind-dn": readerDN, "password-file": d.readerPW,
		"base-dn": "dc=example,dc=com", "page-size": "3"}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func TestLive(t *testing.T) {
	d := startDirectory(t)
	secrets := append([]string{"reader-test-password", "actuator-test-password"}, fixtureSecrets...)

	live := connectortest.Suite(t, func() connectors.Reader {
		return newReader(t, d.readerOpts(nil))
	}, secrets)
	checkADFixture(t, live)

	t.Run("the server and the LDIF export give the same graph", func(t *testing.T) {
		file := connectortest.Read(t, newReader(t, connectors.Options{"from": fixture}))
		connectortest.SameGraphs(t, live, file)
	})

	t.Run("paging is what gets past the size limit", func(t *testing.T) {
		// one page larger than the server's size.pr limit is refused, which
		// proves the limit is in force and the default read pages
		r := newReader(t, d.readerOpts(connectors.Options{"page-size": "1000"}))
		_, err := r.Read(context.Background())
		if err == nil || !goldap.IsErrorAnyOf(errors.Unwrap(err), goldap.LDAPResultSizeLimitExceeded, goldap.LDAPResultAdminLimitExceeded) {
			t.Fatalf("read with page size 1000 = %v, want a size/admin limit error", err)
		}
	})

	tlsTests := []struct {
		name    string
		extra   connectors.Options
		wantErr string
	}{
		{name: "ldaps with ca-file", extra: connectors.Options{"url": d.LDAPSURL, "ca-file": d.caFile}},
		{name: "ldaps with insecure-skip-verify", extra: connectors.Options{"url": d.LDAPSURL, "insecure-skip-verify": "true"}},
		{name: "ldaps refuses an untrusted certificate", extra: connectors.Options{"url": d.LDAPSURL}, wantErr: "certificate"},
		{name: "start-tls with ca-file", extra: connectors.Options{"start-tls": "true", "ca-file": d.caFile}},
		{name: "start-tls refuses an untrusted certificate", extra: connectors.Options{"start-tls": "true"}, wantErr: "starttls"},
	}
	for _, tt := range tlsTests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader(t, d.readerOpts(tt.extra))
			sgs, err := r.Read(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sgs[0].Normalize()
			if !reflect.DeepEqual(sgs, live) {
				t.Fatal("ldaps read differs from ldap read")
			}
		})
	}

	badTests := []struct {
		name string
		opts connectors.Options
		want []string
	}{
		{name: "wrong password", opts: d.readerOpts(connectors.Options{"password-file": d.actuatorPW}),
			want: []string{"bind", readerDN, "Invalid Credentials"}},
		{name: "missing base", opts: d.readerOpts(connectors.Options{"base-dn": "ou=nowhere,dc=example,dc=com"}),
			want: []string{"search", "ou=nowhere,dc=example,dc=com", "No Such Object"}},
		{name: "missing password file", opts: d.readerOpts(connectors.Options{"password-file": "/nonexistent/pw"}),
			want: []string{"password file", "/nonexistent/pw"}},
	}
	for _, tt := range badTests {
		t.Run(tt.name, func(t *testing.T) {
			connectortest.Bad(t, newReader(t, tt.opts), tt.want...)
		})
	}

	t.Run("entry without sAMAccountName fails the read", func(t *testing.T) {
		d.Seed(t, `dn: ou=broken,dc=example,dc=com
objectClass: organizationalUnit
ou: broken

dn: cn=svc-ok,ou=broken,dc=example,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: svc-ok
sn: svc-ok
sAMAccountName: svc-ok

dn: cn=svc-nosam,ou=broken,dc=example,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: svc-nosam
sn: svc-nosam
servicePrincipalName: HTTP/nosam.example.com
`)
		connectortest.Bad(t, newReader(t, d.readerOpts(connectors.Options{"base-dn": "ou=broken,dc=example,dc=com"})),
			`entry "cn=svc-nosam,ou=broken,dc=example,dc=com"`, `attribute "sAMAccountName"`, "missing")
	})
}

// liveNode reads the directory again and returns one node.
func liveNode(t *testing.T, d *directory, nodeID string) graph.Node {
	t.Helper()
	return connectortest.Find(t, connectortest.Read(t, newReader(t, d.readerOpts(nil))), nodeID)
}
