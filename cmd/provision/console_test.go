package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// The detach filter passes every byte but Ctrl-] then ".", where it ends,
// also when the two come in two reads; a Ctrl-] followed by anything
// else, or last, is the operator's and passed on.
func TestDetachReader(t *testing.T) {
	defer parallel(t)()
	for _, c := range []struct {
		reads    []string
		want     string
		detached bool
	}{
		{[]string{"echo hi\n", "\x1d.", "not sent"}, "echo hi\n", true},
		{[]string{"ls\x1d", ".rest"}, "ls", true},
		{[]string{"a\x1db\x1d\x1d.c"}, "a\x1db\x1d", true},
		{[]string{"\x03\x04", "x\x1d"}, "\x03\x04x\x1d", false},
		{[]string{"~.", "\x1e"}, "~.\x1e", false},
	} {
		var in bytes.Buffer
		for _, r := range c.reads {
			in.WriteString(r)
		}
		// one byte a read, as a terminal in raw mode gives them
		d := &detachReader{r: iotest.OneByteReader(strings.NewReader(in.String()))}
		got, err := io.ReadAll(d)
		if err != nil || string(got) != c.want || d.detached.Load() != c.detached {
			t.Errorf("%q: %q %v detached %v; want %q detached %v", c.reads, got, err, d.detached.Load(), c.want, c.detached)
		}
		// as the reads came
		d = &detachReader{r: &chunks{parts: c.reads}}
		if got, _ := io.ReadAll(d); string(got) != c.want {
			t.Errorf("%q in chunks: %q; want %q", c.reads, got, c.want)
		}
	}
}

// chunks reads its parts one a read.
type chunks struct{ parts []string }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// cliConsole is api.Console for the CLI's tests: recorded lines, live
// bytes sent a part at a time, and an attach that answers "got: " and
// what was typed.
type cliConsole struct {
	mu    sync.Mutex
	lines []console.Line
	live  []string // Follow's parts, sent 400 ms apart, then the end
	typed bytes.Buffer
}

func (f *cliConsole) Status(system string) (api.ConsoleStatus, bool) {
	return api.ConsoleStatus{System: system, Capturing: true, State: "open", Why: []string{"installing"}}, true
}

func (f *cliConsole) Lines(system string, since time.Time) ([]console.Line, error) {
	var out []console.Line
	for _, l := range f.lines {
		if !l.At.Before(since) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *cliConsole) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	ch := make(chan []byte)
	go func() {
		defer close(ch)
		for _, p := range f.live {
			select {
			case ch <- []byte(p):
			case <-ctx.Done():
				return
			}
			time.Sleep(400 * time.Millisecond)
		}
	}()
	return ch, nil
}

func (f *cliConsole) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	b, err := io.ReadAll(in)
	f.mu.Lock()
	f.typed.Write(b)
	f.mu.Unlock()
	out.Write(append([]byte("got: "), b...))
	return err
}

func (f *cliConsole) Capture(ctx context.Context, system string, on bool) error { return nil }

// consoleServerCLI serves the API with f as its consoles, and runs the CLI
// against it as an operator.
func consoleServerCLI(t *testing.T, f api.Console) (run func(stdin string, args ...string) (string, string, error), reg *registry.Registry) {
	t.Helper()
	reg = registrytest.Seeded(t)
	auth := func(string) (access.Principal, error) {
		return access.Principal{Name: "otto", Role: access.Operator}, nil
	}
	srv := httptest.NewServer(api.Handler(api.Config{Registry: reg, Auth: auth, Console: f,
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PROVISION_TOKEN", "test")
	return func(stdin string, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		root := newRoot()
		root.SetArgs(append(args, "--server", srv.URL))
		root.SetIn(strings.NewReader(stdin))
		root.SetOut(&out)
		root.SetErr(&errOut)
		err := root.Execute()
		return out.String(), errOut.String(), err
	}, reg
}

// provision console prints the recorded lines with their times, cleaned;
// --follow goes on with the live ones, a prompt printed at once and
// finished on its line; --attach types stdin until Ctrl-] . and prints
// what the console answers.
func TestConsoleCLI(t *testing.T) {
	now := time.Now()
	f := &cliConsole{
		lines: []console.Line{{At: now.Add(-time.Minute), Text: []byte("\x1b[1mKernel\x1b[0m panic\tnow")}, {At: now.Add(-time.Second), Text: []byte("rebooting")}},
		live:  []string{"Debian ", "login: ", "root\n"},
	}
	run, _ := consoleServerCLI(t, f)
	out, _, err := run("", "console", "web001")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3}  Kernel panic\tnow\n\d\d:\d\d:\d\d\.\d{3}  rebooting\n$`).MatchString(out) {
		t.Errorf("console web001:\n%s", out)
	}
	out, _, err = run("", "console", "web001", "--lines", "1", "--json")
	if err != nil || !strings.Contains(out, `"text": "rebooting"`) || strings.Contains(out, "Kernel") || !strings.Contains(out, `"state": "open"`) {
		t.Errorf("console web001 --lines 1 --json: %v\n%s", err, out)
	}
	out, _, err = run("", "console", "web001", "--follow", "--since", "10s")
	if err == nil || !strings.Contains(err.Error(), "web001's console stream: the server") {
		t.Errorf("console --follow when the stream ends: %v", err)
	}
	// "Debian " and "login: " come partial (no line end within 300 ms),
	// and are printed on the line "root" ends.
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3}  rebooting\n\d\d:\d\d:\d\d\.\d{3}  Debian login: root\n$`).MatchString(out) {
		t.Errorf("console web001 --follow --since 10s:\n%s", out)
	}
	out, errOut, err := run("echo hi\n\x1d.exit\n", "console", "web001", "--attach")
	if err != nil || out != "got: echo hi\n" || f.typed.String() != "echo hi\n" {
		t.Errorf("attach: %v, out %q, typed %q", err, out, f.typed.String())
	}
	if want := "attached to web001's console: detach with Ctrl-] then .\n\ndetached from web001's console\n"; errOut != want {
		t.Errorf("attach's messages %q; want %q", errOut, want)
	}
	for _, args := range [][]string{{"--attach", "--follow"}, {"--capture", "on", "--lines", "3"}, {"--capture", "maybe"}, {"--lines", "0"}} {
		if _, _, err := run("", append([]string{"console", "web001"}, args...)...); err == nil {
			t.Errorf("console web001 %q: no usage error", args)
		}
	}
}

// system status ends with the capture of the console, and for a failed
// build with the console lines the appliance noted before the failure.
func TestSystemStatusConsole(t *testing.T) {
	run, reg := consoleServerCLI(t, &cliConsole{})
	ctx := context.Background()
	registrytest.Must(t, func() error {
		_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "debian12-preseed"})
		return err
	}, func() error {
		_, err := reg.AddSystem(ctx, registry.System{Name: "db001", IP: "10.0.0.12", Profile: "inst", MACs: []string{"aa:bb:cc:dd:ee:02"}})
		return err
	})
	sys, err := reg.Reinstall(ctx, "db001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.BuildFailed(ctx, string(sys.BuildToken), "the installer failed", nil); err != nil {
		t.Fatal(err)
	}
	note := "last console lines before the build failed:\nNo root file system is defined.\n\x1b[2JPlease correct this from the partitioning menu."
	if err := reg.Note(ctx, registry.ObjSystem, "db001", "console", note); err != nil {
		t.Fatal(err)
	}
	out, _, err := run("", "system", "status", "db001")
	if err != nil {
		t.Fatal(err)
	}
	want := "  console before the failure:\n    No root file system is defined.\n    [2JPlease correct this from the partitioning menu.\n  console: capturing (open) for installing\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("system status db001:\n%s\nwant it to end with:\n%s", out, want)
	}
	out, _, err = run("", "system", "status", "db001", "--json")
	if err != nil || strings.Contains(out, "console") {
		t.Errorf("system status --json: %v, %s", err, out)
	}
}
