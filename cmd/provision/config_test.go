package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// --dns-forward and dns_forward: not given means the default (nil), none
// or an empty list means off.
func TestDNSForwardConfig(t *testing.T) {
	defer parallel(t)()
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", len(body)))
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "[] nil"},
		{[]string{"--dns-forward", "192.0.2.1,192.0.2.2:5353"}, "[192.0.2.1 192.0.2.2:5353]"},
		{[]string{"--dns-forward", "192.0.2.1", "--dns-forward", "192.0.2.2"}, "[192.0.2.1 192.0.2.2]"},
		{[]string{"--dns-forward", "none"}, "[none]"},
		{[]string{"--dns-forward="}, "[]"},
		{[]string{"--config", file("dns_forward: [192.0.2.7]\n")}, "[192.0.2.7]"},
		{[]string{"--config", file("dns_forward: []\n")}, "[]"},
		{[]string{"--config", file("dns_forward: [192.0.2.7]\n"), "--dns-forward", "none"}, "[none]"},
		{[]string{"--dns-forward", "nameserver"}, `usage: --dns-forward "nameserver": want IP or IP:PORT, or none`},
	} {
		fs := newServe().Flags()
		if err := fs.Parse(append([]string{"--dev"}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(fs)
		got := fmt.Sprint(cfg.DNSForward)
		if cfg.DNSForward == nil {
			got += " nil"
		}
		var uerr usageError
		if errors.As(err, &uerr) {
			got = "usage: " + err.Error()
		} else if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%q: DNSForward %s, want %s", tc.args, got, tc.want)
		}
	}
}
