package tlscert

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelfSignedPinned(t *testing.T) {
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
	c, err := Ensure(crt, key, []string{"192.0.2.1", "boot.example"})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode())
	}
	again, err := Ensure(crt, key, nil)
	if err != nil || string(again.Certificate[0]) != string(c.Certificate[0]) {
		t.Fatalf("second start made a new certificate: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hi")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
	srv.StartTLS()
	defer srv.Close()
	get := func(ca string) error {
		cfg, err := ClientConfig(ca)
		if err != nil {
			return err
		}
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := cl.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	fp := Fingerprint(c.Certificate[0])
	// Pinned, in both spellings; the certificate file as a CA.
	colons := "SHA256:"
	for i := 7; i < len(fp); i += 2 {
		colons += strings.ToUpper(fp[i:i+2]) + ":"
	}
	for _, ca := range []string{fp, strings.TrimSuffix(colons, ":"), crt} {
		if err := get(ca); err != nil {
			t.Errorf("--ca %s: %v", ca, err)
		}
	}
	// Wrong pin, no pin (system roots), another certificate.
	other, _ := Ensure(filepath.Join(dir, "o.crt"), filepath.Join(dir, "o.key"), nil)
	for _, ca := range []string{Fingerprint(other.Certificate[0]), "", filepath.Join(dir, "o.crt")} {
		if err := get(ca); err == nil {
			t.Errorf("--ca %q: the connection was trusted", ca)
		}
	}
	if err := get(Fingerprint(other.Certificate[0])); !strings.Contains(err.Error(), "not the pinned") {
		t.Errorf("wrong pin: %v", err)
	}
	for _, bad := range []string{"sha256:zz", "sha256:abcd", filepath.Join(dir, "nothere"), key} {
		if _, err := ClientConfig(bad); err == nil {
			t.Errorf("ClientConfig(%q) took it", bad)
		}
	}
}
