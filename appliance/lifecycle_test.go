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

	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// fakePower is a BMC controller that records what it is told: the seam
// of a unit test (the real BMC is tested against ipmi_sim end to end).
type fakePower struct {
	mu    sync.Mutex
	state string
	calls []string
	did   chan string
}

func (p *fakePower) record(c string) {
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	select {
	case p.did <- c:
	default:
	}
}

func (p *fakePower) PowerState(_ context.Context, b ipmi.BMC) (string, error) {
	p.record("state " + b.System)
	return p.state, nil
}

func (p *fakePower) SetPower(_ context.Context, b ipmi.BMC, action string) error {
	p.record("power " + action + " " + b.System)
	return nil
}

func (p *fakePower) SetBootDevice(_ context.Context, b ipmi.BMC, device string, persistent bool) error {
	p.record(fmt.Sprintf("boot %s %v %s", device, persistent, b.System))
	return nil
}

func (p *fakePower) took() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// lifecycleRegistry has two systems with a BMC, on a profile with an
// install template; keep01's profile keeps a failed machine on.
func lifecycleRegistry(t *testing.T) (*registry.Registry, *registry.EventLog) {
	t.Helper()
	ctx := context.Background()
	reg, st := registrytest.OpenStore(t, registrytest.Zone)
	steps := []func() error{
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/16"})
			return err
		},
		func() error {
			_, err := reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
				"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}})
			return err
		},
		func() error {
			_, err := reg.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n# {{.System.Name}}\n"})
			return err
		},
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img", Kickstart: "inst"})
			return err
		},
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "keep", Image: "img", Kickstart: "inst", OnFailure: "keep"})
			return err
		},
	}
	for i, name := range []string{"web01", "keep01"} {
		profile := map[string]string{"web01": "p", "keep01": "keep"}[name]
		steps = append(steps, func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: name, MACs: []string{fmt.Sprintf("52:54:00:00:00:%02x", i+1)},
				IP: fmt.Sprintf("10.0.0.%d", 11+i), Profile: profile, BMC: &registry.BMC{Address: fmt.Sprintf("10.0.1.%d", 11+i), User: "admin", Password: "secret"}})
			return err
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return reg, registry.NewEventLog(st, 200)
}

// Both halves of "a build powers the machine": a reinstall boots it from
// the network (power on when it is off), a failed build powers it off in
// Run's loop, unless its profile keeps it on; after Run, nothing is
// powered any more.
func TestBuildsPowerTheMachine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, events := lifecycleRegistry(t)
	power := &fakePower{state: ipmi.Off, did: make(chan string, 16)}
	b := newBuilds(reg, events, power, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	sys, err := reg.Reinstall(ctx, "web01")
	if err != nil {
		t.Fatal(err)
	}
	action, err := b.PowerForBuild(ctx, sys)
	if err != nil || action != ipmi.On {
		t.Fatalf("PowerForBuild of web01 (off): %q, %v; want on", action, err)
	}
	if got, want := strings.Join(power.took(), "; "), "boot pxe false web01; state web01; power on web01"; got != want {
		t.Fatalf("a reinstall told the BMC %q, want %q", got, want)
	}

	for _, name := range []string{"keep01", "web01"} {
		if name == "keep01" {
			if _, err := reg.Reinstall(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := reg.AbortBuild(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	b.powerOff(ctx, "keep01") // what Run would do for it, synchronously
	b.BuildFailed("web01")
	select {
	case <-drain(power.did, "power off web01"):
	case <-time.After(10 * time.Second):
		t.Fatalf("web01's failed build was not powered off: the BMC was told %q", power.took())
	}
	for _, c := range power.took() {
		if strings.Contains(c, "keep01") && strings.HasPrefix(c, "power") {
			t.Errorf("keep01's profile keeps a failed machine on, but its BMC was told %q", c)
		}
	}

	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	b.BuildFailed("web01")
	b.mu.Lock()
	queued := len(b.failed)
	b.mu.Unlock()
	if queued != 0 {
		t.Errorf("a build failed after Run returned was queued for a power-off nobody will make")
	}
}

// drain passes on the first value of in equal to want.
func drain(in chan string, want string) chan string {
	out := make(chan string, 1)
	go func() {
		for c := range in {
			if c == want {
				out <- c
				return
			}
		}
	}()
	return out
}
