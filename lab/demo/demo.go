package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/provision/provision/lab"
)

// Options are the demo's settings; `provision demo` sets them from its
// flags.
type Options struct {
	Exe     string        // the provision program the demo runs as appliance and CLI
	Zonecfg string        // static zonecfg for the appliance: "" = next to Exe, else on PATH
	Once    bool          // check, clean up and return instead of staying up until ctx ends
	Accel   string        // "auto" (KVM if a probe boot works; also ""), "kvm" or "tcg"
	Timeout time.Duration // how long the VMs have to get there; 0 means 10 minutes
	Verbose bool          // also print the lab's own log, and on failure what each process printed
}

// ErrFailed is what Run returns when a machine did not get where it
// should: what failed is printed already.
var ErrFailed = errors.New("the demo did not complete")

// The demo's machines.
const (
	lvsMAC   = "52:54:00:de:00:01"
	webMAC   = "52:54:00:de:00:02"
	probeMAC = "52:54:00:de:00:0f"
)

// Run runs the demo (as root), printing its live view on out. With
// o.Once it returns when both machines got where they should (nil) or
// did not (ErrFailed); otherwise the lab stays up until ctx ends, and
// Run returns nil. Either way it first removes every namespace, tap,
// process and file it made.
func Run(ctx context.Context, out io.Writer, o Options) error {
	if os.Geteuid() != 0 {
		return errors.New("provision demo needs root: it creates network namespaces, a bridge and taps")
	}
	if err := o.defaults(); err != nil {
		return err
	}
	zonecfg, err := o.zonecfg()
	if err != nil {
		return err
	}
	p := &printer{out: out, start: time.Now()}
	var log io.Writer
	if o.Verbose {
		log = p
	}
	env, err := lab.New(ctx, lab.Options{Log: log})
	if err != nil {
		return err
	}
	defer func() {
		p.line("demo: cleaning up (VMs, namespaces, taps, files)")
		env.Close()
	}()
	d := &demo{env: env, o: o, zonecfg: zonecfg, p: p}
	err = d.run(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		p.say("interrupted")
		return nil
	case err != nil && o.Verbose:
		for _, proc := range env.Procs() {
			p.line(fmt.Sprintf("  lab: %s (%s) printed:\n%s", proc.Label, strings.Join(proc.Args, " "), proc.Timed()))
		}
	}
	return err
}

// defaults fills in the zero values and checks Accel.
func (o *Options) defaults() error {
	if o.Accel == "" {
		o.Accel = "auto"
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Accel != "auto" && o.Accel != "kvm" && o.Accel != "tcg" {
		return fmt.Errorf("--accel %q: want auto, kvm or tcg", o.Accel)
	}
	return nil
}

// printer writes the live view: say's lines carry the time since the
// start. It is safe for concurrent use (the event follower prints too).
type printer struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func (p *printer) say(format string, args ...any) {
	p.line(fmt.Sprintf("[%5.1fs] ", time.Since(p.start).Seconds()) + fmt.Sprintf(format, args...))
}

func (p *printer) line(s string) { p.raw(s + "\n") }

// raw prints s as it is.
func (p *printer) raw(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.out, s)
}

// Write prints the lab's log (Options.Verbose), indented.
func (p *printer) Write(b []byte) (int, error) {
	p.line("  " + strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
