package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// 50 concurrent `provision system add` with one IP: exactly one wins.
func TestConcurrentAddsOneIP(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	var wg sync.WaitGroup
	results := make([]result, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run(nil, "system", "add", fmt.Sprintf("node%02d", i), "--mac", fmt.Sprintf("02:00:00:00:01:%02x", i),
				"--ip", "10.0.0.50", "--profile", "centos-web")
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.Code == 0:
			ok++
		case !strings.Contains(r.Err, "ip 10.0.0.50 is already used by system node"):
			t.Errorf("unexpected failure: %q", r.Err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d adds succeeded, want exactly 1", ok)
	}
}

// kill -9 during a burst of writes, restart: every acknowledged write is
// there and the registry loads consistently.
func TestKillDuringWrites(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	s := startServer(t, data)
	seed(t, s)
	c := &api.Client{BaseURL: s.URL, Token: s.Token}
	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 250; i++ {
				name := fmt.Sprintf("w%d-%03d", w, i)
				in := api.SystemInput{System: registry.System{Name: name, MACs: []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", w, i/256, i%256)},
					IP: fmt.Sprintf("10.0.%d.%d", 2+w, 2+i), Profile: "centos-web", Netboot: true}}
				if err := c.Do(ctx, "POST", api.Path("systems"), in, nil); err == nil {
					mu.Lock()
					acked[name] = true
					mu.Unlock()
				}
			}
		}()
	}
	for w := range 8 {
		s.ok("subnet", "add", fmt.Sprintf("burst%d", w), "--cidr", fmt.Sprintf("10.0.%d.0/24", 2+w))
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Kill()
	cancel()
	wg.Wait()
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	s2 := startServer(t, data)
	c2 := &api.Client{BaseURL: s2.URL, Token: s2.Token}
	var systems []registry.System
	if err := c2.Do(context.Background(), "GET", api.Path("systems"), nil, &systems); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, sys := range systems {
		have[sys.Name] = true
		var one registry.System
		if err := c2.Do(context.Background(), "GET", api.Path("systems", sys.Name), nil, &one); err != nil || one.IP != sys.IP {
			t.Fatalf("system %s inconsistent after restart: %v", sys.Name, err)
		}
	}
	for name := range acked {
		if !have[name] {
			t.Errorf("acknowledged system %s lost after kill -9", name)
		}
	}
	if extra := len(have) - len(acked); extra > 8 {
		t.Errorf("%d systems present that were never acknowledged (at most one in flight per writer)", extra)
	}
	t.Logf("%d acknowledged writes before kill -9, %d systems after restart", len(acked), len(have))
}

func TestExportImportIdentical(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	s.run([]string{"PW=pw-export-secret"}, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web",
		"--bmc-address", "10.0.1.11", "--bmc-password-env", "PW", "--set", "mysql.server_id=11")
	s.ok("system", "add", "db001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.21", "--profile", "centos-db", "--netboot=false")
	s.ok("setting", "set", "lvs.vrid", "100")
	file := filepath.Join(t.TempDir(), "registry.yaml")
	s.ok("export", "-o", file)
	first, _ := os.ReadFile(file)
	if strings.Contains(string(first), "pw-export-secret") {
		t.Fatal("export without --with-secrets holds the BMC password")
	}
	s2 := startServer(t, t.TempDir())
	out := s2.ok("import", file, "--dry-run")
	if !strings.Contains(out, "would import: 9 added") || s2.ok("system", "list") != "NAME  HOSTNAME  MAC  IP  PROFILE  NETBOOT  STATUS\n" {
		t.Fatalf("dry run: %q", out)
	}
	s2.ok("import", file)
	second := s2.ok("export")
	if second != string(first) {
		t.Fatalf("export after import differs:\n%s\n---\n%s", first, second)
	}
	if out := s2.ok("import", file); !strings.Contains(out, "0 added, 0 changed, 9 unchanged") {
		t.Fatalf("re-import: %q", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`systems:
  - {name: x1, macs: ["AA-BB-CC-DD-EE-01"], ip: 10.0.0.31, profile: centos-web}
  - {name: x2, macs: ["aa:bb:cc:dd:ee:09"], ip: 10.0.0.21, profile: centos-web}
`), 0o644)
	s2.fails("2 problems, nothing was written", "import", bad)
	r := s2.run(nil, "import", bad)
	if !strings.Contains(r.Err, "mac aa:bb:cc:dd:ee:01 is already used by system web001") || !strings.Contains(r.Err, "ip 10.0.0.21 is already used by system db001") {
		t.Fatalf("import must list every conflict: %s", r.Err)
	}
}

// Mutations need the token; the BMC password never comes back out.
func TestTokenAndSecrets(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	const pw = "Zq9-bmc-never-shown" // with the "2" of the edit: 20 bytes, IPMI's most
	s.run([]string{"PW=" + pw}, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web",
		"--bmc-address", "10.0.1.11", "--bmc-user", "admin", "--bmc-password-env", "PW")
	s.run([]string{"PW=" + pw + "2"}, "system", "edit", "web001", "--bmc-password-env", "PW")
	if st, _ := os.Stat(filepath.Join(s.Data, "token")); st.Mode().Perm() != 0o600 {
		t.Errorf("token mode %v, want 0600", st.Mode().Perm())
	}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/api/v1/subnets", `{"name":"x","cidr":"10.5.0.0/24"}`},
		{"POST", "/api/v1/systems", `{}`},
		{"PUT", "/api/v1/systems/web001", `{}`},
		{"DELETE", "/api/v1/systems/web001", ``},
		{"PUT", "/api/v1/settings/a", `{"value":"1"}`},
		{"DELETE", "/api/v1/profiles/centos-web", ``},
		{"POST", "/api/v1/import", `{}`},
		{"PUT", "/api/v1/blobs", `x`},
		{"GET", "/api/v1/export?secrets=1", ``},
	} {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + s.Token + "x", s.Token} {
			r, _ := http.NewRequest(req.method, s.URL+req.path, strings.NewReader(req.body))
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: status %d, want 401", req.method, req.path, auth, resp.StatusCode)
			}
		}
	}
	var seen strings.Builder
	for _, p := range []string{"/api/v1/systems", "/api/v1/systems/web001", "/api/v1/history", "/api/v1/history?name=web001", "/api/v1/export", "/metrics"} {
		_, b := s.get(p)
		seen.WriteString(b)
	}
	seen.WriteString(s.ok("history"))
	seen.WriteString(s.ok("system", "show", "web001"))
	seen.WriteString(s.ok("export"))
	if !strings.Contains(seen.String(), `"password_set": true`) {
		t.Fatal("the API does not say a password is set")
	}
	s.Stop()
	seen.WriteString(s.Log())
	if strings.Contains(seen.String(), pw) {
		t.Fatal("the BMC password appears in an API response, the history, an export or the log")
	}
	s2 := startServer(t, s.Data)
	if out := s2.ok("export", "--with-secrets"); !strings.Contains(out, pw+"2") {
		t.Fatal("export --with-secrets with the token lacks the password")
	}
	s2.Stop()
	// At rest the password is sealed: neither the database nor its log
	// holds it, and the key file is the owner's only.
	for _, f := range []string{"registry.db", "registry.db-wal"} {
		if b, _ := os.ReadFile(filepath.Join(s.Data, f)); strings.Contains(string(b), pw) {
			t.Errorf("%s holds the BMC password", f)
		}
	}
	if st, err := os.Stat(filepath.Join(s.Data, "secret.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", st, err)
	}
}

// Without its secret key, or with another, the server refuses to start
// and changes nothing; with the key back it starts as before.
func TestSecretKeyLostOrWrong(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	s := startServer(t, data)
	seed(t, s)
	s.run([]string{"PW=pw-sealed"}, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web",
		"--bmc-address", "10.0.1.11", "--bmc-password-env", "PW")
	s.Stop()
	keyFile := filepath.Join(data, "secret.key")
	key, _ := os.ReadFile(keyFile)
	db, _ := os.ReadFile(filepath.Join(data, "registry.db"))
	os.Rename(keyFile, keyFile+".bak")
	other := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{nil, "secret key " + keyFile + " is missing, and the registry holds secrets sealed with it"},
		{[]string{"--secret-key-file", other}, "secret key " + other + ": the database's secrets were sealed with another key"},
		{[]string{"--secret-key-file", filepath.Join(data, "images")}, "secret key"},
		{[]string{"--secret-key-file", bad}, "want 64 hex digits"},
	} {
		cmd := exec.Command(binary, append([]string{"serve", "--dev", "--data", data, "--http", "127.0.0.1:0", "--dns", "", "--tftp", ""}, tc.extra...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve %v: %v\n%s\nwant an error with %q", tc.extra, err, out, tc.want)
		}
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatal("a refused start wrote a new key")
	}
	if now, _ := os.ReadFile(filepath.Join(data, "registry.db")); !bytes.Equal(now, db) {
		t.Fatal("a refused start changed the database")
	}
	os.Rename(keyFile+".bak", keyFile)
	s2 := startServer(t, data)
	if out := s2.ok("export", "--with-secrets"); !strings.Contains(out, "pw-sealed") {
		t.Fatalf("with the key back: %s", out)
	}
	if k, _ := os.ReadFile(keyFile); !bytes.Equal(k, key) {
		t.Fatal("the key file changed")
	}
}

// A server that accepts the connection and never answers does not hang
// the CLI: it gives up after --answer-timeout, saying so.
func TestCLIGivesUpOnASilentServer(t *testing.T) {
	defer parallel(t)()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	start := time.Now()
	out, err := exec.Command(cli, "--server", "http://"+l.Addr().String(), "--answer-timeout", "1s", "system", "list").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "did not answer within 1s") {
		t.Fatalf("provision system list against a silent server: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("gave up after %v", d)
	}
}
