package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/console"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// fakeConsoles is a console.Manager that keeps what it is told: the seam
// of the policy's unit tests. Each session's followers get what feed
// gives it; Stop closes them.
type fakeConsoles struct {
	mu       sync.Mutex
	sessions map[string]*fakeSession
	lines    map[string][]console.Line // each system's "Ring", kept after Stop
	calls    []string
	closed   bool
	attached chan string
}

type fakeSession struct {
	bmc       console.BMC
	followers []chan []byte
	attached  bool
	detach    chan struct{} // closed by Stop
}

func newFakeConsoles() *fakeConsoles {
	return &fakeConsoles{sessions: map[string]*fakeSession{}, lines: map[string][]console.Line{}, attached: make(chan string, 4)}
}

func (f *fakeConsoles) Capture(system string, b console.BMC) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("capture %s after Close", system)
	}
	f.calls = append(f.calls, "capture "+system+" "+b.Address+" "+b.Password)
	if s, ok := f.sessions[system]; ok {
		s.bmc = b
		return nil
	}
	f.sessions[system] = &fakeSession{bmc: b, detach: make(chan struct{})}
	return nil
}

func (f *fakeConsoles) Stop(system string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[system]
	if !ok {
		return nil
	}
	f.calls = append(f.calls, "stop "+system)
	for _, ch := range s.followers {
		close(ch)
	}
	close(s.detach)
	delete(f.sessions, system)
	return nil
}

func (f *fakeConsoles) Status(system string) (console.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[system]
	if !ok {
		return console.Status{}, console.ErrNotCaptured
	}
	return console.Status{System: system, BMC: s.bmc.String(), State: console.StateOpen, Reconnects: 1, Attached: s.attached}, nil
}

func (f *fakeConsoles) Sessions() []console.Status {
	f.mu.Lock()
	var names []string
	for name := range f.sessions {
		names = append(names, name)
	}
	f.mu.Unlock()
	var out []console.Status
	for _, name := range names {
		if st, err := f.Status(name); err == nil {
			out = append(out, st)
		}
	}
	return out
}

func (f *fakeConsoles) Lines(system string, _ time.Time) ([]console.Line, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lines[system], nil
}

func (f *fakeConsoles) Recorded(system string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lines[system]) > 0
}

func (f *fakeConsoles) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[system]
	if !ok {
		return nil, console.ErrNotCaptured
	}
	ch := make(chan []byte, 16)
	s.followers = append(s.followers, ch)
	return ch, nil
}

// Attach reads in until it ends (or Stop), as the real one does.
func (f *fakeConsoles) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	f.mu.Lock()
	s, ok := f.sessions[system]
	if ok {
		s.attached = true
	}
	f.mu.Unlock()
	if !ok {
		return console.ErrNotCaptured
	}
	f.attached <- system
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, in); close(done) }()
	select {
	case <-done:
	case <-s.detach:
	case <-ctx.Done():
	}
	f.mu.Lock()
	s.attached = false
	f.mu.Unlock()
	return nil
}

func (f *fakeConsoles) Close() error {
	f.mu.Lock()
	var names []string
	for name := range f.sessions {
		names = append(names, name)
	}
	f.closed = true
	f.mu.Unlock()
	for _, name := range names {
		f.Stop(name)
	}
	return nil
}

// feed is the machine printing: into the "Ring" and to the followers.
func (f *fakeConsoles) feed(system, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			f.lines[system] = append(f.lines[system], console.Line{At: time.Now(), Text: []byte(strings.TrimSuffix(l, "\n"))})
		}
	}
	if s, ok := f.sessions[system]; ok {
		for _, ch := range s.followers {
			ch <- []byte(text)
		}
	}
}

// took returns the calls since the last took.
func (f *fakeConsoles) took() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := strings.Join(f.calls, "; ")
	f.calls = nil
	return out
}

// consoleRegistry has web01 and db01 with IPMI BMCs (web01 on a profile
// that installs, db01 diskless), rf01 with a Redfish BMC and plain01
// with none, both installing.
func consoleRegistry(t *testing.T) (*registry.Registry, *registry.EventLog) {
	t.Helper()
	ctx := context.Background()
	reg, st := registrytest.OpenStore(t, registrytest.Zone)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/16"}))
	must(reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
		"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}}))
	must(reg.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n"}))
	must(reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img", Kickstart: "inst"}))
	must(reg.AddProfile(ctx, registry.Profile{Name: "live", Image: "img"}))
	systems := []registry.System{
		{Name: "web01", Profile: "p", BMC: &registry.BMC{Address: "10.0.1.1", User: "admin", Password: "pw1"}},
		{Name: "db01", Profile: "live", BMC: &registry.BMC{Address: "10.0.1.2", User: "admin", Password: "pw2"}},
		{Name: "rf01", Profile: "p", BMC: &registry.BMC{Address: "10.0.1.3", User: "admin", Password: "pw3", Provider: "redfish", Insecure: true}},
		{Name: "plain01", Profile: "p"},
	}
	for i, s := range systems {
		s.MACs, s.IP = []string{fmt.Sprintf("52:54:00:00:01:%02x", i+1)}, fmt.Sprintf("10.0.0.%d", 21+i)
		must(reg.AddSystem(ctx, s))
	}
	return reg, registry.NewEventLog(st, 200)
}

// testConsoles is a capture over a fake Manager whose clock the test
// moves (advance), with no settle before a failed build's note.
func testConsoles(t *testing.T) (*consoles, *fakeConsoles, func(time.Duration)) {
	t.Helper()
	reg, events := consoleRegistry(t)
	fake := newFakeConsoles()
	c := newConsoles(fake, reg, events, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.settle = 0
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	return c, fake, advance
}

// followers counts system's session's followers.
func (f *fakeConsoles) followers(system string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sessions[system]; ok {
		return len(s.followers)
	}
	return 0
}
