package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/pgtest"
)

// provision serve --database keeps the registry in PostgreSQL: what one
// appliance wrote is there after its restart, and a second appliance
// started on the same database (with the same secret key) loads it and
// answers it in DNS. The password never goes on the command line: a URL
// holding one is refused, and --database-password-file is read.
func TestServeOnPostgres(t *testing.T) {
	url := pgtest.DB(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServer(t, dataA, "--database", url)
	a.ok("setting", "set", "lvs.vrid", "100")
	a.ok("subnet", "add", "lan", "--cidr", "10.9.0.0/24")
	a.Stop()
	if _, err := os.Stat(filepath.Join(dataA, "registry.db")); err == nil {
		t.Error("with --database the appliance still made DATA/registry.db")
	}
	a = startServer(t, dataA, "--database", url)
	if out := a.ok("setting", "list"); !strings.Contains(out, "lvs.vrid") {
		t.Fatalf("after a restart on PostgreSQL the setting is gone:\n%s", out)
	}
	if !strings.Contains(a.Log(), "registry: on PostgreSQL") {
		t.Errorf("the log does not say the registry is on PostgreSQL:\n%s", a.Log())
	}

	// B shares A's database and its secret key, which seals what both write.
	key, err := os.ReadFile(filepath.Join(dataA, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dataB, "secret.key"), key, 0o600)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("unused-with-trust\n"), 0o600)
	b := startServer(t, dataB, "--database", url, "--database-password-file", pw)
	m := new(dns.Msg)
	m.SetQuestion("lvs.vrid.internal.", dns.TypeTXT)
	r, err := dns.Exchange(m, b.DNS)
	if err != nil || len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), `"100"`) {
		t.Fatalf("B's DNS for lvs.vrid: %v, %v; want the TXT 100 that A wrote", r, err)
	}

	withPassword := strings.Replace(url, "provision@", "provision:s3cret@", 1)
	out, err := exec.Command(binary, "serve", "--dev", "--data", t.TempDir(), "--database", withPassword).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--database: the URL holds a password") {
		t.Errorf("serve with a password in --database: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("the refusal repeats the password:\n%s", out)
	}
}
