package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/pgtest"
)

// provision migrate copies a SQLite appliance's registry into PostgreSQL:
// serve --database on the same data directory (the same secret key) then
// exports the same registry, secrets included, with the same history, and
// answers it in DNS. A second migration onto the now full database fails
// naming a table; a missing --from is not created, and a password in --to
// is refused.
func TestMigrateCLI(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	a := startServer(t, data)
	seed(t, a)
	if r := a.run([]string{"BMC_PW=bmc-pass-migrate"}, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11",
		"--profile", "centos-web", "--bmc-address", "10.0.1.11", "--bmc-user", "admin", "--bmc-password-env", "BMC_PW"); r.Code != 0 {
		t.Fatalf("system add web001: %+v", r)
	}
	a.ok("system", "add", "web002", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-db")
	a.ok("system", "add", "web003", "--mac", "aa:bb:cc:dd:ee:03", "--ip", "10.0.0.13", "--profile", "centos-web")
	a.ok("setting", "set", "lvs.vrid", "100")
	export, history := a.ok("export", "--with-secrets"), a.ok("history", "--json")
	a.Stop()

	url := pgtest.DB(t)
	db := filepath.Join(data, "registry.db")
	r := runCLI(t, "", nil, "migrate", "--from", "sqlite:"+db, "--to", url)
	if r.Code != 0 {
		t.Fatalf("migrate: exit %d: %s", r.Code, r.Err)
	}
	for table, n := range map[string]string{"subnets": "2", "images": "1", "profiles": "2", "systems": "3", "macs": "3", "templates": "1", "settings": "1", "sealing": "1"} {
		if !regexp.MustCompile(`(?m)^  ` + table + ` +` + n + `$`).MatchString(r.Out) {
			t.Errorf("migrate's output lacks %s rows of %s:\n%s", n, table, r.Out)
		}
	}
	for _, want := range []string{filepath.Join(data, "secret.key"), "provision serve --database " + url} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("migrate's output does not say %q:\n%s", want, r.Out)
		}
	}
	t.Logf("provision migrate:\n%s", r.Out)

	b := startServer(t, data, "--database", url)
	if got := b.ok("export", "--with-secrets"); got != export {
		t.Errorf("the export on PostgreSQL differs:\n%s\nwant\n%s", got, export)
	}
	if !strings.Contains(export, "bmc-pass-migrate") {
		t.Errorf("the export lacks the sealed BMC password:\n%s", export)
	}
	if got := b.ok("history", "--json"); got != history {
		t.Errorf("the history on PostgreSQL differs:\n%s\nwant\n%s", got, history)
	}
	m := new(dns.Msg)
	m.SetQuestion("web002.internal.", dns.TypeA)
	if ans, err := dns.Exchange(m, b.DNS); err != nil || len(ans.Answer) != 1 || !strings.Contains(ans.Answer[0].String(), "10.0.0.12") {
		t.Errorf("DNS for web002 on PostgreSQL: %v, %v", ans, err)
	}
	b.ok("system", "add", "web004", "--mac", "aa:bb:cc:dd:ee:04", "--ip", "10.0.0.14", "--profile", "centos-web")
	b.Stop()

	r = runCLI(t, "", nil, "migrate", "--from", "sqlite:"+db, "--to", url)
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: migrate: target table subnets already holds 2 rows") {
		t.Errorf("migrate onto a full database: exit %d, %q; want exit 1 naming subnets", r.Code, r.Err)
	}
	missing := filepath.Join(t.TempDir(), "registry.db")
	r = runCLI(t, "", nil, "migrate", "--from", missing, "--to", url)
	if r.Code != 1 || !strings.Contains(r.Err, missing+": no such file") {
		t.Errorf("migrate from a missing file: exit %d, %q", r.Code, r.Err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("migrate made the missing --from file")
	}
	withPassword := strings.Replace(url, "provision@", "provision:s3cret@", 1)
	r = runCLI(t, "", nil, "migrate", "--from", db, "--to", withPassword)
	if r.Code != 2 || !strings.Contains(r.Err, "--to: the URL holds a password") || strings.Contains(r.Err, "s3cret") {
		t.Errorf("migrate to a URL with a password: exit %d, %q", r.Code, r.Err)
	}
}
