package console

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEscaper(t *testing.T) {
	const E = string(rune(EscapeChar))
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"ls -l\r"}, "ls -l\r"},
		{"first byte", []string{E + "."}, E + E + "."},
		{"after a line end", []string{"a\r" + E + ".\n" + E + "B"}, "a\r" + E + E + ".\n" + E + E + "B"},
		{"mid-line", []string{"a" + E + "."}, "a" + E + "."},
		{"line end in the write before", []string{"echo\r", E + "\x1a"}, "echo\r" + E + E + "\x1a"},
		{"two escapes at a line start", []string{"\n" + E + E}, "\n" + E + E + E},
		{"tilde is ordinary", []string{"\r~.\r~?"}, "\r~.\r~?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e escaper
			var got strings.Builder
			for _, w := range tc.writes {
				got.Write(e.encode([]byte(w)))
			}
			if diff := cmp.Diff(tc.want, got.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestClassify feeds classify what the real ipmitool 1.8.19 printed
// against OpenIPMI's ipmi_sim.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want error
		text string
	}{
		{"Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n", ErrAuth, "RAKP 2 HMAC is invalid"},
		{"RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n", ErrAuth, "unauthorized name"},
		{"Error de-activating SOL payload: Invalid command\n", ErrUnsupported, "Invalid command"},
		{"Info: SOL payload disabled\n", ErrUnsupported, "payload disabled"},
		{"Error: Unable to establish IPMI v2 / RMCP+ session\n", nil, "RMCP+ session"},
		{"Error: No response to keepalive - Terminating session\nError: No response de-activating SOL payload\n", nil, "No response de-activating"},
		{"SOL session closed by BMC\x1b[2J\n", nil, "closed by BMC"},
	} {
		err := classify(tc.out)
		for _, sentinel := range []error{ErrAuth, ErrUnsupported} {
			if is := errors.Is(err, sentinel); is != (sentinel == tc.want) {
				t.Errorf("classify(%q) = %v: errors.Is(%v) = %v", tc.out, err, sentinel, is)
			}
		}
		if !strings.Contains(err.Error(), tc.text) || strings.ContainsRune(err.Error(), '\x1b') {
			t.Errorf("classify(%q) = %q: want it to quote %q, with no escape sequence", tc.out, err, tc.text)
		}
	}
}

// TestCommandPassword: the password is in ipmitool's environment as
// IPMI_PASSWORD only; never in its arguments, nor in a BMC's String; an
// IPMITOOL_PASSWORD of this process (which ipmitool would read first)
// is not passed on.
func TestCommandPassword(t *testing.T) {
	t.Setenv("IPMITOOL_PASSWORD", "inherited")
	t.Setenv("IPMI_PASSWORD", "inherited")
	b := BMC{Address: "10.0.0.5", User: "admin", Password: "s3cret-pw"}
	cmd := tool{path: "/usr/bin/ipmitool"}.command(t.Context(), b, "sol", "activate")
	if slices.ContainsFunc(cmd.Args, func(a string) bool { return strings.Contains(a, "s3cret") }) {
		t.Errorf("password in argv: %q", cmd.Args)
	}
	want := []string{"/usr/bin/ipmitool", "-I", "lanplus", "-C", "3", "-H", "10.0.0.5", "-p", "623", "-U", "admin", "-E", "-N", "1", "-R", "2", "-e", "\x1e", "sol", "activate"}
	if diff := cmp.Diff(want, cmd.Args); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	var pw []string
	for _, kv := range cmd.Env {
		if strings.Contains(kv, "PASSWORD=") {
			pw = append(pw, kv)
		}
	}
	if diff := cmp.Diff([]string{"IPMI_PASSWORD=s3cret-pw"}, pw); diff != "" {
		t.Errorf("password variables (-want +got):\n%s", diff)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", b, b, b, b.LogValue()); strings.Contains(s, "s3cret") {
		t.Errorf("BMC shown as %q", s)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 8 * time.Second}
	for i, ceiling := range []time.Duration{1, 2, 4, 8, 8, 8} {
		ceiling *= time.Second
		if d := b.next(); d < ceiling/2 || d > ceiling {
			t.Errorf("wait %d = %v: want between %v and %v", i, d, ceiling/2, ceiling)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("after reset: %v, want at most 1s", d)
	}
}

func TestBMCCheck(t *testing.T) {
	m := NewManager(ManagerConfig{Dir: t.TempDir(), Ipmitool: "/nonexistent/ipmitool"})
	t.Cleanup(func() { m.Close() })
	for _, b := range []BMC{
		{},
		{Address: "10.0.0.5 -o x", User: "admin"},
		{Address: "10.0.0.5", Port: 70000, User: "admin"},
		{Address: "10.0.0.5", User: "admin\x1b[2J"},
		{Address: "10.0.0.5", User: "a-user-name-of-17"},
		{Address: "10.0.0.5", User: "admin", Password: "a password of 21 byte"},
	} {
		err := m.Capture("web001", b)
		if err == nil || !strings.Contains(err.Error(), "system web001") {
			t.Errorf("Capture(%+v) = %v, want a refusal naming the system", b, err)
		} else if strings.Contains(err.Error(), "a password of") {
			t.Errorf("the refusal shows the password: %v", err)
		}
	}
	if err := m.Capture("../etc", BMC{Address: "10.0.0.5"}); !errors.Is(err, ErrSystemName) {
		t.Errorf("Capture(../etc) = %v, want ErrSystemName", err)
	}
	if got := m.Sessions(); len(got) != 0 {
		t.Errorf("sessions: %+v", got)
	}
}
