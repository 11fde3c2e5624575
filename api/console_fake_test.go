package api

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/provision/provision/console"
)

// fakeConsole is Console for tests: recorded lines and a status set by
// the test, live bytes the test sends, and an attach that answers each
// typed chunk with "got: CHUNK".
type fakeConsole struct {
	mu       sync.Mutex
	lines    []console.Line
	status   map[string]ConsoleStatus
	live     chan []byte   // Follow's bytes; nil: "login: " then the end
	followed chan string   // told each Follow's system, if set
	err      error         // every method's error, if set
	typed    []byte        // what Attach read
	captures []string      // "web001 on"
	attached chan struct{} // closed when an Attach has started, if set
	// attach, if set, is Attach.
	attach func(ctx context.Context, in io.Reader, out io.Writer) error
	calls  []string // "follow", "lines", in order
}

func (f *fakeConsole) call(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

func (f *fakeConsole) Status(system string) (ConsoleStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.status[system]
	return st, ok
}

func (f *fakeConsole) Lines(system string, since time.Time) ([]console.Line, error) {
	f.call("lines")
	if f.err != nil {
		return nil, f.err
	}
	var out []console.Line
	for _, l := range f.lines {
		if !l.At.Before(since) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *fakeConsole) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	f.call("follow")
	if f.err != nil {
		return nil, f.err
	}
	if f.followed != nil {
		f.followed <- system
	}
	if f.live != nil {
		return f.live, nil
	}
	ch := make(chan []byte, 1)
	ch <- []byte("login: ")
	close(ch)
	return ch, nil
}

func (f *fakeConsole) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	if f.err != nil {
		return f.err
	}
	if f.attached != nil {
		close(f.attached)
	}
	if f.attach != nil {
		return f.attach(ctx, in, out)
	}
	buf := make([]byte, 512)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			f.mu.Lock()
			f.typed = append(f.typed, buf[:n]...)
			f.mu.Unlock()
			if _, err := out.Write(append([]byte("got: "), buf[:n]...)); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (f *fakeConsole) Capture(ctx context.Context, system string, on bool) error {
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.captures = append(f.captures, system+map[bool]string{true: " on", false: " off"}[on])
	if f.status == nil {
		f.status = map[string]ConsoleStatus{}
	}
	f.status[system] = ConsoleStatus{System: system, Capturing: on, Why: []string{"operator"}, State: "open"}
	return nil
}

func (f *fakeConsole) typedText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.typed)
}
