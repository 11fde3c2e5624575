package main

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/provision/provision/appliance"
)

// The packaged configuration (packaging/config.yaml) serves the API and
// the dashboard over TLS on a listener of their own, on every address
// (the appliance's address is not known when the package is built); the
// boot listener answers /api/ and /ui/ with where they are.
func TestPackagedConfigServesAPIOverTLS(t *testing.T) {
	defer parallel(t)()
	fs := newServe().Flags()
	if err := fs.Parse([]string{"--config", "../../packaging/config.yaml", "--data", t.TempDir(), "--http", "127.0.0.1:0",
		"--dns", "", "--tftp", "", "--address", "127.0.0.1", "--power-poll", "0", "--dns-forward", "none"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(cfg.API)
	if err != nil || host != "" || port == "" {
		t.Fatalf("packaging/config.yaml: api %q, want :PORT (TLS, every address)", cfg.API)
	}
	cfg.API = "127.0.0.1:0" // the packaged port may be taken here
	ctx, cancel := context.WithCancel(context.Background())
	a, err := appliance.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// A browser's login: the form's page, then the form, sent from it.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	base := "https://" + a.Addrs().API
	resp, err := hc.Get(base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page)
	if resp.StatusCode != 200 || csrf == nil {
		t.Fatalf("the login page over TLS: %d\n%s", resp.StatusCode, page)
	}
	token, err := os.ReadFile(filepath.Join(cfg.Data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {strings.TrimSpace(string(token))}, "csrf": {string(csrf[1])}}
	req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "provision_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure {
		t.Errorf("login over TLS: %d, session cookie %+v; want a Secure one", resp.StatusCode, session)
	}
	for _, p := range []string{"/api/v1/whoami", "/ui/login"} {
		resp, err := http.Get("http://" + a.Addrs().HTTP + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(b), "https://127.0.0.1:") {
			t.Errorf("GET %s on the boot listener: %d %s, want 404 naming the API's https URL", p, resp.StatusCode, b)
		}
	}
}
