package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// EscapeChar is the escape character ipmitool is started with (-e):
// Ctrl-^, which consoles seldom see. Attach makes it harmless anyway.
const EscapeChar = '\x1e'

// DetachSequence is what ends an interactive attach in the CLI: Ctrl-]
// then '.'. The client watches for it and does not send it; Attach
// itself passes every byte on.
const DetachSequence = "\x1d."

// BMC is how a system's BMC is reached for SOL: IPMI 2.0 over LAN.
// Its String, GoString and LogValue leave the password out.
type BMC struct {
	Address  string // IP or host name
	Port     int    // 0: 623
	User     string
	Password string
}

// String is the BMC's user, address and port, for messages.
func (b BMC) String() string { return b.User + "@" + b.hostPort() }

// LogValue keeps the password out of logs.
func (b BMC) LogValue() slog.Value { return slog.StringValue(b.String()) }

// GoString keeps the password out of %#v.
func (b BMC) GoString() string { return "console.BMC(" + b.String() + ")" }

// check refuses BMC settings ipmitool cannot use: IPMI 2.0 allows user
// names of 16 bytes and passwords of 20 at most.
func (b BMC) check() error {
	switch {
	case b.Address == "" || strings.ContainsFunc(b.Address, badAddressRune):
		return fmt.Errorf("bmc address %q: want an IP address or host name", b.Address)
	case b.Port < 0 || b.Port > 65535:
		return fmt.Errorf("bmc %s: port %d out of range", b.Address, b.Port)
	case len(b.User) > 16 || strings.ContainsFunc(b.User, unicode.IsControl):
		return fmt.Errorf("bmc %s: user %q: at most 16 bytes, no control characters", b.Address, b.User)
	case len(b.Password) > 20:
		return fmt.Errorf("bmc %s: the password is longer than IPMI's 20 bytes", b.Address)
	}
	return nil
}

func badAddressRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' }

func (b BMC) hostPort() string {
	port := b.Port
	if port == 0 {
		port = 623
	}
	return net.JoinHostPort(b.Address, strconv.Itoa(port))
}

// tool runs ipmitool against BMCs.
type tool struct {
	path string // ipmitool's path; "" finds it on PATH
}

// command is ipmitool running verb against b: the password is in its
// environment only (-E reads IPMI_PASSWORD; IPMITOOL_PASSWORD, which it
// would read first, is removed from the inherited environment).
func (t tool) command(ctx context.Context, b BMC, verb ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, t.bin(), t.args(b, verb...)...)
	cmd.Env = append(environ(), "IPMI_PASSWORD="+b.Password)
	return cmd
}

func (t tool) bin() string {
	if t.path != "" {
		return t.path
	}
	return "ipmitool"
}

// args are ipmitool's arguments: cipher suite 3 (without one ipmitool
// first asks for the list, which some BMCs never answer), a 1 s timeout
// and 2 retries per request, so that a BMC gone silent ends the session
// after a few missed keepalives.
func (t tool) args(b BMC, verb ...string) []string {
	port := b.Port
	if port == 0 {
		port = 623
	}
	a := []string{"-I", "lanplus", "-C", "3", "-H", b.Address, "-p", strconv.Itoa(port),
		"-U", b.User, "-E", "-N", "1", "-R", "2", "-e", string(rune(EscapeChar))}
	return append(a, verb...)
}

// environ is this process's environment without ipmitool's password
// variables.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IPMI_PASSWORD=") && !strings.HasPrefix(kv, "IPMITOOL_PASSWORD=") {
			env = append(env, kv)
		}
	}
	return env
}

// deactivate ends a SOL session left open on b (by a crash, or by this
// manager's ipmitool once killed). No session to end is no error; a BMC
// that refuses the password or has no SOL says so here, before any
// terminal is set up. -v makes ipmitool name a wrong user or password.
func (t tool) deactivate(ctx context.Context, b BMC) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := t.command(ctx, b, "-v", "sol", "deactivate").CombinedOutput()
	if err == nil || strings.Contains(string(out), "already de-activated") {
		return nil
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("ipmitool sol deactivate: no answer within 15s: %w", ctx.Err())
	case !errors.As(err, &exit):
		return fmt.Errorf("ipmitool: %w", err)
	}
	return classify(string(out))
}
