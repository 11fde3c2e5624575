package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// provision backup while the appliance serves, and provision restore into
// a new data directory: the restored appliance answers the same (export
// with secrets, DNS, data.cdb byte for byte, history, a system's boot
// events). An appliance killed with SIGKILL in the middle of a backup
// leaves no FILE (only the CLI's failure), and serves its data again
// after a restart; an archive cut short or a used data directory is
// refused; a backup without secrets needs the old key to serve.
func TestBackupAndRestore(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	f, _ := os.Create(kernel)
	f.Truncate(96 << 20) // large enough for a backup to be caught in the middle
	f.Close()
	t.Setenv("BMC_PW", "s3cret-bmc")
	s.ok("subnet", "add", "lan", "--cidr", "10.0.0.0/24", "--gateway", "10.0.0.1")
	s.ok("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	s.ok("profile", "add", "web", "--image", "img")
	s.ok("system", "add", "web001", "--mac", "02:00:00:00:00:01", "--ip", "10.0.0.11", "--profile", "web",
		"--bmc-address", "10.0.1.11", "--bmc-user", "admin", "--bmc-password-env", "BMC_PW")
	s.ok("system", "add", "web002", "--mac", "02:00:00:00:00:02", "--ip", "10.0.0.12", "--profile", "web")
	s.ok("setting", "set", "lvs.vrid", "100")
	httpDo(t, "GET", s.URL+"/boot/02:00:00:00:00:01.ipxe", "") // a boot event

	// SIGKILL in the middle of a backup.
	file := filepath.Join(dir, "backup.tar")
	cmd := exec.Command(cli, "backup", file, "--with-secrets")
	cmd.Env = append(os.Environ(), "PROVISION_SERVER="+s.URL, "PROVISION_TOKEN="+s.Token)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if st, err := os.Stat(file + ".partial"); err == nil && st.Size() > 1<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backup never got going:\n%s", out.String())
		}
	}
	s.Kill()
	if err := cmd.Wait(); err == nil || !strings.Contains(out.String(), "nothing was written to "+file) {
		t.Errorf("a backup whose appliance was killed: %v\n%s", err, out.String())
	}
	for _, p := range []string{file, file + ".partial"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the killed backup left %s", p)
		}
	}
	s = startServer(t, data) // the same data, after the kill
	if !strings.Contains(s.ok("system", "list"), "web002") {
		t.Fatal("after the kill, the appliance lost its systems")
	}

	s.ok("backup", file, "--with-secrets")
	restored := filepath.Join(t.TempDir(), "restored")
	if r := runCLI(t, "", nil, "restore", file, "--data", restored); r.Code != 0 || !strings.Contains(r.Out, "restored") {
		t.Fatalf("restore: %d %s %s", r.Code, r.Out, r.Err)
	}
	want := map[string]string{
		"export":  s.ok("export", "--with-secrets"),
		"history": s.ok("history", "web001"),
		"status":  s.ok("system", "status", "web001", "--json"),
		"zone":    s.ok("zone", "export"),
	}
	wantCDB := cdbBytes(t, s)
	s.Stop() // the original no longer serves; the restored one answers alike
	r := startServer(t, restored)
	for what, w := range want {
		var got string
		switch what {
		case "export":
			got = r.ok("export", "--with-secrets")
		case "history":
			got = r.ok("history", "web001")
		case "status":
			got = r.ok("system", "status", "web001", "--json")
		case "zone":
			got = r.ok("zone", "export")
		}
		if got != w {
			t.Errorf("the restored appliance's %s differs:\n%s\nwant:\n%s", what, got, w)
		}
	}
	if got := cdbBytes(t, r); string(got) != string(wantCDB) {
		t.Errorf("the restored data.cdb differs (%d bytes, want %d)", len(got), len(wantCDB))
	}
	m := new(dns.Msg)
	m.SetQuestion("web002.internal.", dns.TypeA)
	if ans, err := dns.Exchange(m, r.DNS); err != nil || len(ans.Answer) != 1 || !strings.Contains(ans.Answer[0].String(), "10.0.0.12") {
		t.Errorf("the restored appliance's DNS for web002: %v %v", ans, err)
	}
	if tok, _ := os.ReadFile(filepath.Join(restored, "token")); strings.TrimSpace(string(tok)) != s.Token {
		t.Error("the restored appliance does not take the old admin token")
	}

	// Refusals: a used data directory, an archive cut short.
	if res := runCLI(t, "", nil, "restore", file, "--data", restored); res.Code == 0 || !strings.Contains(res.Err, "not empty") {
		t.Errorf("a restore into a used data directory: %d %s", res.Code, res.Err)
	}
	b, _ := os.ReadFile(file)
	cut := filepath.Join(dir, "cut.tar")
	os.WriteFile(cut, b[:len(b)/2], 0o600)
	fresh := filepath.Join(t.TempDir(), "fresh")
	if res := runCLI(t, "", nil, "restore", cut, "--data", fresh); res.Code == 0 || !strings.Contains(res.Err, "cut short") {
		t.Errorf("a restore of half a backup: %d %s", res.Code, res.Err)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("the refused restore made its data directory")
	}

	// Without secrets: the restored appliance needs the old key.
	plain := filepath.Join(dir, "plain.tar")
	r.ok("backup", plain)
	noKey := filepath.Join(t.TempDir(), "nokey")
	runCLI(t, "", nil, "restore", plain, "--data", noKey)
	res, err := exec.Command(binary, "serve", "--dev", "--data", noKey, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--tftp", "127.0.0.1:0", "--dns-forward", "none").CombinedOutput()
	if err == nil || !strings.Contains(string(res), "secret key") {
		t.Errorf("serving a backup without its key: %v\n%s", err, res)
	}
	key, _ := os.ReadFile(filepath.Join(restored, "secret.key"))
	os.WriteFile(filepath.Join(noKey, "secret.key"), key, 0o600)
	k := startServer(t, noKey)
	if got := k.ok("export", "--with-secrets"); got != want["export"] {
		t.Errorf("with the old key, the backup without secrets exports differently:\n%s", got)
	}
}

func cdbBytes(t *testing.T, s *server) []byte {
	t.Helper()
	code, body := httpDo(t, "GET", s.URL+"/zone/data.cdb", "")
	if code != 200 {
		t.Fatalf("data.cdb: %d", code)
	}
	return []byte(body)
}
