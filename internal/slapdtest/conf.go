package slapdtest

import (
	"os"
	"path/filepath"
	"testing"
	"text/template"
)

// confText is slapd.conf: the schemas posixAccount, inetOrgPerson and
// groupOfNames need, the mdb backend and the memberof overlay (which
// keeps users' memberOf in step with the groups' member values), TLS with
// the test's CA (and no operation without TLS: a client that skipped
// StartTLS is refused, "confidentiality required"), and who reads what: passwords only for binding, the
// people as the service account and themselves, the groups as any
// signed-in user. The rootdn, which writes, passes every rule.
var confText = template.Must(template.New("slapd.conf").Parse(`
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {{.Dir}}/slapd.pid
argsfile {{.Dir}}/slapd.args
TLSCACertificateFile {{.Dir}}/ca.pem
TLSCertificateFile {{.Dir}}/server.pem
TLSCertificateKeyFile {{.Dir}}/server.key
security tls=1

database mdb
suffix "{{.Base}}"
rootdn "{{.RootDN}}"
rootpw {{.RootHash}}
directory {{.Dir}}/db
maxsize 16777216
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf

access to attrs=userPassword
	by anonymous auth
	by * none
access to dn.subtree="ou=groups,{{.Base}}"
	by users read
	by * none
access to *
	by dn.exact="{{.ReaderDN}}" read
	by self read
	by * none
`))

type confData struct {
	Dir, Base, RootDN, RootHash, ReaderDN string
}

// writeConf writes dir/slapd.conf and makes the database's directory.
func writeConf(t testing.TB, d confData) string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(d.Dir, "db"), 0o700); err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
	file := filepath.Join(d.Dir, "slapd.conf")
	f, err := os.Create(file)
	if err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
	defer f.Close()
	if err := confText.Execute(f, d); err != nil {
		t.Fatalf("slapdtest: slapd.conf: %v", err)
	}
	return file
}
