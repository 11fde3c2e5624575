package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// outBuffer collects what the console sends, and tells each write.
type outBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func (o *outBuffer) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitFor waits until the console sent want.
func (o *outBuffer) waitFor(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for {
		o.mu.Lock()
		got := o.b.String()
		o.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-o.wrote:
		case <-ctx.Done():
			t.Fatalf("the console sent %q, never %q (the answer is not streamed while the body is open?)", got, want)
		}
	}
}

// An attach is full duplex through the real client and server: a typed
// line reaches the console and its answer comes back while the body is
// still open, over HTTP/1.1, over TLS (HTTP/1.1, as the appliance serves
// it) and over HTTP/2; the end of the body detaches, and history says who
// attached and that they left.
func TestConsoleAttachFullDuplex(t *testing.T) {
	for _, mode := range []string{"http", "tls", "h2"} {
		t.Run(mode, func(t *testing.T) {
			f := &fakeConsole{}
			srv := httptest.NewUnstartedServer(nil)
			reg := consoleHandler(t, srv, f)
			var tc *tls.Config
			if mode == "http" {
				srv.Start()
			} else {
				srv.EnableHTTP2 = mode == "h2"
				srv.StartTLS()
				pool := x509.NewCertPool()
				pool.AddCert(srv.Certificate())
				tc = &tls.Config{RootCAs: pool}
			}
			t.Cleanup(srv.Close)
			cl := &Client{BaseURL: srv.URL, Token: "operator", HTTP: NewHTTPClient(AnswerTimeout, tc)}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			in, typing := io.Pipe()
			out := &outBuffer{wrote: make(chan struct{}, 1)}
			ended := make(chan error, 1)
			go func() { ended <- cl.AttachConsole(ctx, "web001", in, out) }()
			for _, line := range []string{"echo hi\n", "\x03", "ls\n"} {
				if _, err := typing.Write([]byte(line)); err != nil {
					t.Fatal(err)
				}
				out.waitFor(t, ctx, "got: "+line)
			}
			typing.Close()
			select {
			case err := <-ended:
				if err != nil {
					t.Errorf("AttachConsole after the end of what was typed: %v", err)
				}
			case <-ctx.Done():
				t.Fatal("AttachConsole did not return when its input ended")
			}
			if got := f.typedText(); got != "echo hi\n\x03ls\n" {
				t.Errorf("the console got %q", got)
			}
			if d := cmp.Diff([]string{"attached by otto [otto]", "detached [otto]"}, consoleNotes(t, reg, "web001")); d != "" {
				t.Errorf("history of web001 (-want +got):\n%s", d)
			}
		})
	}
}

// A second operator is refused with 409 naming the system, and nothing
// goes in history; an attach that ends on an error once begun says why
// (the trailer), and history too.
func TestConsoleAttachRefused(t *testing.T) {
	f := &fakeConsole{status: map[string]ConsoleStatus{"web001": {Attached: true}}}
	srv, reg := consoleServer(t, f)
	err := consoleClient(srv, "operator").AttachConsole(t.Context(), "web001", strings.NewReader("ls\n"), io.Discard)
	var e *Error
	if !errors.As(err, &e) || e.Status != 409 || e.ErrorBody.Error != "another operator is attached to web001's console" {
		t.Errorf("attach while another is attached: %v", err)
	}
	if notes := consoleNotes(t, reg, "web001"); len(notes) != 0 {
		t.Errorf("history of a refused attach: %q", notes)
	}

	stopped := errors.New("the session was stopped")
	f = &fakeConsole{attach: func(ctx context.Context, in io.Reader, out io.Writer) error {
		out.Write([]byte("bye\r\n"))
		return stopped
	}}
	srv, reg = consoleServer(t, f)
	in, typing := io.Pipe()
	defer typing.Close()
	var out strings.Builder
	err = consoleClient(srv, "operator").AttachConsole(t.Context(), "web001", in, &out)
	if err == nil || err.Error() != "web001's console: the session was stopped" || out.String() != "bye\r\n" {
		t.Errorf("an attach the console ended: %v, after %q", err, out.String())
	}
	want := []string{"attached by otto [otto]", "detached: the session was stopped [otto]"}
	if d := cmp.Diff(want, consoleNotes(t, reg, "web001")); d != "" {
		t.Errorf("history of web001 (-want +got):\n%s", d)
	}
}

// An attach whose console is silent still begins its answer (after
// attachGrace), so the client knows it is attached.
func TestConsoleAttachSilent(t *testing.T) {
	f := &fakeConsole{}
	srv, _ := consoleServer(t, f)
	ready := make(chan struct{})
	in, typing := io.Pipe()
	ended := make(chan error, 1)
	go func() {
		ended <- consoleClient(srv, "operator").AttachConsoleReady(t.Context(), "web001", in, io.Discard, func() { close(ready) })
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("a silent console's attach never began")
	}
	typing.Close()
	if err := <-ended; err != nil {
		t.Error(err)
	}
}
