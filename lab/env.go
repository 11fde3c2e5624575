package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// Options configure an Env. The zero value logs nothing and keeps its
// files in a directory of its own under os.TempDir().
type Options struct {
	// Log receives the lab's notes (a cached kernel serving instead of
	// the current one) and the output of simulated BMCs. nil discards.
	Log io.Writer
	// TempDir is where the Env makes its directories (TempDir, disks,
	// initramfs images); the caller owns it. If empty, the Env makes one
	// and removes it at Close.
	TempDir string
}

// Env owns what the lab makes: namespaces, taps, processes, listeners,
// files. Each resource is undone by a cleanup pushed when it is made;
// Close runs them last first, so a VM stops before its tap goes and the
// tap before its namespace. An Env is safe for concurrent use.
type Env struct {
	ctx     context.Context
	log     io.Writer
	root    string
	ownRoot bool

	mu       sync.Mutex
	cleanups []func()
	procs    []*Proc
	closed   bool
}

// New returns an Env. Cancelling ctx stops the processes it starts (as
// Close does) and ends its waits; Close must still be called.
func New(ctx context.Context, o Options) (*Env, error) {
	e := &Env{ctx: ctx, log: o.Log, root: o.TempDir}
	if e.log == nil {
		e.log = io.Discard
	}
	if e.root == "" {
		root, err := os.MkdirTemp("", "provision-lab-")
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		e.root, e.ownRoot = root, true
	}
	return e, nil
}

// Defer pushes f on the Env's cleanups; Close runs it. After Close, f
// runs at once.
func (e *Env) Defer(f func()) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		f()
		return
	}
	e.cleanups = append(e.cleanups, f)
	e.mu.Unlock()
}

// Close runs the cleanups, last first, and removes the temporary
// directory the Env made. Calling it again does nothing.
func (e *Env) Close() error {
	e.mu.Lock()
	fs := e.cleanups
	e.cleanups, e.closed = nil, true
	e.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	if e.ownRoot {
		e.ownRoot = false
		if err := os.RemoveAll(e.root); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

// TempDir returns a new directory under the Env's temporary directory.
func (e *Env) TempDir() (string, error) {
	d, err := os.MkdirTemp(e.root, "")
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return d, nil
}

// Procs returns the processes the Env has started (VMs, servers run in a
// namespace, dnsmasq), in the order they were started: after a failure,
// their transcripts tell what happened.
func (e *Env) Procs() []*Proc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Proc(nil), e.procs...)
}

func (e *Env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "lab: "+format+"\n", args...)
}
