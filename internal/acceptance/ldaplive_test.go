package acceptance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/steward-oss/steward/internal/ldaptest"
)

// TestLDAPLiveDomainAdmins asks the Active Directory question of a real
// slapd seeded with the same export, read over ldaps:// with paging by
// `steward load ldap --url`, and expects the same answer as the LDIF path.
func TestLDAPLiveDomainAdmins(t *testing.T) {
	s := ldaptest.Start(t, ldaptest.Config{SizeLimit: 5})
	seed, err := os.ReadFile(fixture("ldap", "ad-export.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	s.Seed(t, string(seed))
	// A read-only bind account; not a person, so it is not read as one.
	const readerDN = "cn=steward-reader,dc=example,dc=com"
	s.Seed(t, "dn: "+readerDN+"\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: steward-reader\nuserPassword: acceptance-reader-password\n")

	e := newEnv(t)
	pw, ca := filepath.Join(e.dir, "reader.pw"), filepath.Join(e.dir, "ca.pem")
	if err := os.WriteFile(pw, []byte("acceptance-reader-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, s.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	e.load("hr", "--from", fixture("hr", "roster.csv"))
	e.load("ldap", "--url", s.LDAPSURL, "--base-dn", ldaptest.BaseDN, "--bind-dn", readerDN,
		"--password-file", pw, "--ca-file", ca, "--page-size", "3")
	x := parseExport(t, e.export())
	noSecrets(t, e.export())

	// Same question and hand-worked answer as the LDIF load in
	// TestSaaSQuestions.
	a := e.mustAsk("AD service accounts with password never expires in Domain Admins")
	sameSet(t, "AD service accounts, password never expires, Domain Admins", ids(t, a),
		[]string{"ldap:example.com:cn=svc-sql,ou=service accounts,dc=example,dc=com"})
	checkEvidenceExported(t, a, x)
	for r := range a.Rows {
		if reach := grantPath(t, a, r, "admin"); !reach["ldap:example.com:cn=domain admins,ou=groups,dc=example,dc=com"] {
			t.Errorf("row %s: evidence does not pass through Domain Admins:%s", cell(t, a, r, "id"), evString(a.Evidence[r]))
		}
		// managedBy names Alice Admin, whose mail is alice@example.com.
		if o := cell(t, a, r, "owner"); o != "alice@example.com" {
			t.Errorf("row %s: owner %q, want alice@example.com (managedBy)", cell(t, a, r, "id"), o)
		}
		ownsEdge(t, a, r)
	}
}
