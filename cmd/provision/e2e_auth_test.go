package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/internal/tlscert"
)

// curlCode runs curl and returns the HTTP status it got ("000": none) and
// the body.
func curlCode(t *testing.T, args ...string) (string, string) {
	t.Helper()
	curl := testenv.NeedCommand(t, "curl")
	out, _ := exec.Command(curl, append([]string{"-sS", "-o", "-", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
	s := string(out)
	i := strings.LastIndex(s, "\n")
	return s[i+1:], s[:i]
}

// Items 1 to 3 of the hardening issue, with curl and the CLI: reads need
// a token; the read-only token only reads; the API on its own TLS
// listener whose self-signed certificate the CLI pins; tokens rotate
// while the server runs; history says which token and address.
func TestAPIListenerTokensTLS(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir(), "--api", "127.0.0.1:0")
	if s.API == "" || s.CA == "" {
		t.Fatalf("no https listener or fingerprint logged:\n%s", s.Log())
	}
	crt := filepath.Join(s.Data, "tls", "api.crt")
	b, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if cert, err := x509.ParseCertificate(blk.Bytes); err != nil || tlscert.Fingerprint(cert.Raw) != s.CA {
		t.Fatalf("logged fingerprint %s is not DATA/tls/api.crt's: %v", s.CA, err)
	}
	ro, err := os.ReadFile(filepath.Join(s.Data, "token-read-only"))
	if err != nil {
		t.Fatal(err)
	}
	readOnly := strings.TrimSpace(string(ro))
	bearer := func(tok string) []string { return []string{"-H", "Authorization: Bearer " + tok} }
	tlsArgs := []string{"--cacert", crt}

	// The boot listener: no API, boot routes open without a token.
	if code, body := curlCode(t, s.URL+"/api/v1/systems"); code != "404" || !strings.Contains(body, "https://") {
		t.Errorf("API on the boot listener: %s %s", code, body)
	}
	for _, p := range []string{"/zone/data.cdb", "/healthz"} {
		if code, _ := curlCode(t, s.URL+p); code != "200" {
			t.Errorf("GET %s on the boot listener without a token: %s", p, code)
		}
	}
	// The API listener: TLS only; every read needs a token.
	if code, _ := curlCode(t, "http"+strings.TrimPrefix(s.API, "https")+"/api/v1/systems"); code == "200" {
		t.Error("the API listener answered plain HTTP")
	}
	if code, body := curlCode(t, s.API+"/api/v1/systems"); code != "000" || !strings.Contains(body, "certificate") {
		t.Errorf("curl trusted the self-signed certificate without --cacert: %s %s", code, body)
	}
	for _, p := range []string{"/api/v1/export", "/api/v1/history", "/api/v1/systems", "/api/v1/settings", "/api/v1/events", "/api/v1/discovered", "/metrics"} {
		if code, _ := curlCode(t, append(tlsArgs, s.API+p)...); code != "401" {
			t.Errorf("GET %s without a token: %s, want 401", p, code)
		}
		if code, _ := curlCode(t, append(append(tlsArgs, bearer(readOnly)...), s.API+p)...); code != "200" {
			t.Errorf("GET %s with the read-only token: %s, want 200", p, code)
		}
	}
	put := append(append(tlsArgs, "-X", "PUT", "-d", `{"value":"100"}`), s.API+"/api/v1/settings/lvs.vrid")
	if code, body := curlCode(t, append(bearer(readOnly), put...)...); code != "403" || !strings.Contains(body, "read-only") {
		t.Errorf("PUT with the read-only token: %s %s", code, body)
	}
	if code, body := curlCode(t, append(bearer(s.Token), put...)...); code != "200" {
		t.Fatalf("PUT with the admin token: %s %s", code, body)
	}

	// The CLI pins the certificate by fingerprint ($PROVISION_CA).
	s.ok("setting", "set", "lvs.weight", "5")
	other := "sha256:" + strings.Repeat("ab", 32)
	if r := s.run([]string{"PROVISION_CA=" + other}, "setting", "list"); r.Code != 1 || !strings.Contains(r.Err, "not the pinned") {
		t.Errorf("wrong pin: %+v", r)
	}
	if r := s.run([]string{"PROVISION_CA="}, "setting", "list"); r.Code != 1 || !strings.Contains(r.Err, "certificate") {
		t.Errorf("no pin: %+v", r)
	}
	if out := s.ok("setting", "list", "--ca", crt); !strings.Contains(out, "lvs.weight") {
		t.Errorf("--ca FILE: %q", out)
	}

	// History: who and from where.
	_, body := curlCode(t, append(append(tlsArgs, bearer(readOnly)...), s.API+"/api/v1/history")...)
	var hist []struct{ Name, By, From string }
	if err := json.Unmarshal([]byte(body), &hist); err != nil {
		t.Fatalf("history: %v: %s", err, body)
	}
	if len(hist) != 2 {
		t.Fatalf("history: %s", body)
	}
	for _, h := range hist {
		if h.By != "admin" || h.From != "127.0.0.1" {
			t.Errorf("history record %+v: want by admin from 127.0.0.1", h)
		}
	}

	// Rotation takes effect on the running server.
	out, err := exec.Command(cli, "token", "rotate", "--read-only", "--data", s.Data).CombinedOutput()
	if err != nil || strings.Contains(string(out), readOnly) {
		t.Fatalf("token rotate: %v: %s", err, out)
	}
	if code, _ := curlCode(t, append(append(tlsArgs, bearer(readOnly)...), s.API+"/api/v1/systems")...); code != "401" {
		t.Errorf("the rotated read-only token: %s, want 401", code)
	}
	nro, _ := os.ReadFile(filepath.Join(s.Data, "token-read-only"))
	if code, _ := curlCode(t, append(append(tlsArgs, bearer(strings.TrimSpace(string(nro)))...), s.API+"/api/v1/systems")...); code != "200" {
		t.Errorf("the new read-only token: %s, want 200", code)
	}
	if code, _ := curlCode(t, append(append(tlsArgs, bearer(s.Token)...), s.API+"/api/v1/systems")...); code != "200" {
		t.Errorf("the admin token after rotating the read-only one: %s", code)
	}
	if strings.Contains(s.Log(), readOnly) || strings.Contains(s.Log(), s.Token) {
		t.Error("a token is in the server's log")
	}
}

// Item 13, with curl and the CLI: GET gives an ETag, a stale If-Match
// gets 412, and CLI edits of different fields made at once all land.
func TestConcurrentEditsETag(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	const pw = "Bmc-pw-kept-9"
	s.run([]string{"PW=" + pw}, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web",
		"--bmc-address", "10.0.1.11", "--bmc-user", "admin", "--bmc-password-env", "PW", "--set", "gone=1")
	auth := []string{"-H", "Authorization: Bearer " + s.Token}
	url := s.URL + "/api/v1/systems/web001"
	out, err := exec.Command("curl", append(auth, "-sS", "-D", "-", "-o", "/dev/null", url)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?mi)^etag: ("[0-9a-f]{24}")`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no ETag in:\n%s", out)
	}
	stale := m[1]
	s.ok("system", "edit", "web001", "--kernel-args", "quiet")
	if code, body := curlCode(t, append(auth, "-X", "PATCH", "-H", "If-Match: "+stale, "-d", `{"ip":"10.0.0.12"}`, url)...); code != "412" || !strings.Contains(body, "changed since it was read") {
		t.Errorf("PATCH with a stale If-Match: %s %s", code, body)
	}
	// Eight edits of eight settings, at once: none is lost.
	const n = 8
	errs := make(chan string, n)
	for i := range n {
		go func() {
			r := s.run(nil, "system", "edit", "web001", "--set", fmt.Sprintf("k%d=v%d", i, i))
			if r.Code != 0 {
				errs <- r.Err
				return
			}
			errs <- ""
		}()
	}
	for range n {
		if e := <-errs; e != "" {
			t.Errorf("edit: %s", e)
		}
	}
	s.ok("system", "edit", "web001", "--unset", "gone")
	var sys struct {
		KernelArgs string `json:"kernel_args"`
		Settings   map[string]string
		BMC        struct {
			PasswordSet bool `json:"password_set"`
		}
	}
	json.Unmarshal([]byte(s.ok("system", "show", "web001", "--json")), &sys)
	for i := range n {
		if sys.Settings[fmt.Sprintf("k%d", i)] != fmt.Sprintf("v%d", i) {
			t.Errorf("edit k%d lost: %v", i, sys.Settings)
		}
	}
	if _, ok := sys.Settings["gone"]; ok || !sys.BMC.PasswordSet || sys.KernelArgs != "quiet" {
		t.Errorf("after the edits: %+v", sys)
	}
	if r := s.run(nil, "system", "edit", "web001", "--set", "k1=v1"); r.Code != 0 || !strings.Contains(r.Err, "system web001: no change") {
		t.Errorf("an edit that changes nothing: %+v", r)
	}
}
