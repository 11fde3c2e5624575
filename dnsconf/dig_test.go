package dnsconf

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/registry"
)

// digger runs dig (Debian dnsutils) against one server.
type digger struct {
	t          *testing.T
	path, host string
	port       string
}

func newDigger(t *testing.T, addr string) *digger {
	path := testenv.NeedCommand(t, "dig")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return &digger{t, path, host, port}
}

// dig runs dig @server -p port ARGS with timeouts, and returns its output.
func (d *digger) dig(args ...string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"@" + d.host, "-p", d.port, "+time=5", "+tries=2"}, args...)
	out, err := exec.CommandContext(ctx, d.path, args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// shortTXT joins the character-strings of dig +short TXT output, skipping
// dig's comment lines (";; Truncated, retrying in TCP mode.").
func shortTXT(out string) string {
	var strs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, ";") {
			continue
		}
		strs = append(strs, quoted(line)...)
	}
	return JoinTXT(strs)
}

// quoted returns the "..." strings of a line, escapes kept.
func quoted(line string) []string {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case !in && c == '"':
			in = true
			cur.Reset()
		case in && c == '\\' && i+1 < len(line):
			cur.WriteByte(c)
			cur.WriteByte(line[i+1])
			i++
		case in && c == '"':
			in = false
			out = append(out, cur.String())
		case in:
			cur.WriteByte(c)
		}
	}
	return out
}

// TestDig: the real client against a server fed by a real registry.
func TestDig(t *testing.T) {
	reg := openRegistry(t)
	ctx := context.Background()
	big := strings.Repeat("0123456789", 100)
	if _, err := reg.SetSetting(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	reg.OnChange(func(snap *registry.Snapshot) { srv.Changed(snap, snap.Serial) })
	snap := reg.Snapshot()
	if _, err := srv.Update(snap, snap.Serial); err != nil {
		t.Fatal(err)
	}
	d := newDigger(t, startServer(t, srv))

	t.Run("setting", func(t *testing.T) {
		if got := d.dig("TXT", "lvs.vrid.dsas", "+short"); got != "\"100\"\n" {
			t.Errorf("dig +short = %q, want %q", got, "\"100\"\n")
		}
	})
	t.Run("host settings and PTR", func(t *testing.T) {
		if got := d.dig("TXT", "ROLE.web001._host.DSAS", "+short"); got != "\"canary\"\n" {
			t.Errorf("role = %q", got)
		}
		if got := d.dig("-x", "10.0.0.12", "+short"); got != "www.dsas.\n" {
			t.Errorf("PTR = %q", got)
		}
	})
	t.Run("1000 bytes: TC over UDP, dig retries over TCP", func(t *testing.T) {
		before := srv.Stats().Truncated
		if out := d.dig("+noedns", "TXT", "big.dsas"); !strings.Contains(out, ";; Truncated, retrying in TCP mode.") {
			t.Errorf("dig did not retry over TCP:\n%s", out)
		}
		if got := shortTXT(d.dig("+noedns", "TXT", "big.dsas", "+short")); got != big {
			t.Errorf("joined value: %q, want %q", got, big)
		}
		if n := srv.Stats().Truncated - before; n != 2 {
			t.Errorf("server sent %d truncated replies, want 2", n)
		}
	})
	t.Run("1000 bytes fit an EDNS0 buffer of 1232", func(t *testing.T) {
		out := d.dig("TXT", "big.dsas", "+short")
		if strings.Contains(out, "Truncated") || shortTXT(out) != big {
			t.Errorf("dig with EDNS0:\n%s", out)
		}
	})
	t.Run("TC flag without retry", func(t *testing.T) {
		out := d.dig("+noedns", "+notcp", "+ignore", "TXT", "big.dsas")
		if !strings.Contains(out, ";; flags: qr aa tc rd;") || !strings.Contains(out, "ANSWER: 0,") {
			t.Errorf("no TC flag:\n%s", out)
		}
	})
	t.Run("status", func(t *testing.T) {
		for name, want := range map[string]string{"nosuch.dsas": "status: NXDOMAIN", "vrid.dsas": "status: NOERROR", "example.com": "status: REFUSED"} {
			if out := d.dig("TXT", name); !strings.Contains(out, want) {
				t.Errorf("dig TXT %s: no %q:\n%s", name, want, out)
			}
		}
	})
	t.Run("change visible without restart", func(t *testing.T) {
		if _, err := reg.SetSetting(ctx, "lvs.vrid", "101"); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := srv.WaitSerial(wctx, reg.Snapshot().Serial); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("\"101\"\n", d.dig("TXT", "lvs.vrid.dsas", "+short")); diff != "" {
			t.Errorf("after SetSetting (-want +got):\n%s", diff)
		}
	})
}
