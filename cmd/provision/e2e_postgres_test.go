package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/pgtest"
)

// provision serve --database keeps the registry in PostgreSQL: what one
// appliance wrote is there after its restart, and a second appliance
// started on the same database (with the same secret key) loads it and
// answers it in DNS, and what is changed through the first is answered by
// the second's DNS and data.cdb within a second. The password never goes on the command line: a URL
// holding one is refused, and --database-password-file is read.
func TestServeOnPostgres(t *testing.T) {
	defer parallel(t)()
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

	// A change through A is answered by B's DNS and data.cdb within 1 s.
	start := time.Now()
	a.ok("setting", "set", "lvs.vrid", "from-a-7f3b9e")
	for {
		r, err := dns.Exchange(m, b.DNS)
		if err == nil && len(r.Answer) == 1 && strings.Contains(r.Answer[0].String(), `"from-a-7f3b9e"`) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("1 s after the change through A, B's DNS says %v, %v", r, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	dnsAt := time.Since(start)
	for {
		code, body := b.get("/zone/data.cdb")
		if code == 200 && strings.Contains(body, "from-a-7f3b9e") {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("1 s after the change through A, B's data.cdb lacks it (%d)", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("a setting set through A: in B's DNS after %v, in B's data.cdb after %v", dnsAt.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	withPassword := strings.Replace(url, "provision@", "provision:s3cret@", 1)
	out, err := exec.Command(binary, "serve", "--dev", "--data", t.TempDir(), "--database", withPassword).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--database: the URL holds a password") {
		t.Errorf("serve with a password in --database: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("the refusal repeats the password:\n%s", out)
	}
}
