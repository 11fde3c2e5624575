package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Proc is a background process started by Env.Exec or Env.BootVM. Its
// standard output and error go to the embedded Transcript.
type Proc struct {
	*Transcript
	Label string   // what it is: "qemu 52:54:00:12:34:56", a program name
	Args  []string // its command line
	mu    sync.Mutex
	cmd   *exec.Cmd // the current run (guarded by mu: restart replaces it)
	out   io.Writer // its standard output and error
	// restart, if set, is asked when the process exits with status 0 by
	// itself: true runs it again, same arguments, same output, same
	// time limit (a UEFI VM's reboot, see BootVMWith).
	restart func(*Proc) bool
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // from cmd.Wait, set before done is closed
}

// start starts args and stops it (SIGTERM, then SIGKILL) at Close, when
// the Env's context ends, or after limit if limit > 0. The kernel kills
// it too if this process dies (PR_SET_PDEATHSIG).
func (e *Env) start(label string, limit time.Duration, args ...string) (*Proc, error) {
	return e.startWith(label, limit, nil, args...)
}

// startWith is start with Proc.restart.
func (e *Env) startWith(label string, limit time.Duration, restart func(*Proc) bool, args ...string) (*Proc, error) {
	ctx, cancel := context.WithCancel(e.ctx)
	if limit > 0 {
		ctx, cancel = context.WithTimeout(e.ctx, limit)
	}
	p := &Proc{Transcript: newTranscript(), Label: label, Args: args, restart: restart, cancel: cancel, done: make(chan struct{})}
	p.out = p.Transcript
	if dir := os.Getenv("PROVISION_LAB_OUTPUT"); dir != "" {
		// A developer's window on a long VM run: each process's output
		// also goes, as it comes, to DIR/LABEL.log.
		name := strings.Map(func(r rune) rune {
			if r == '/' || r == ' ' || r == ':' {
				return '_'
			}
			return r
		}, label)
		if f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			e.Defer(func() { f.Close() })
			p.out = io.MultiWriter(p.Transcript, f)
		}
	}
	if err := p.run(ctx); err != nil {
		cancel()
		return nil, err
	}
	go p.wait(ctx, limit)
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	e.Defer(p.Stop)
	return p, nil
}

// run starts the process (again, for a restart) as p.cmd.
func (p *Proc) run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, p.Args[0], p.Args[1:]...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lab: start %s: %w", strings.Join(p.Args, " "), err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	return nil
}

// current is the process's current run.
func (p *Proc) current() *exec.Cmd {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd
}

func (p *Proc) wait(ctx context.Context, limit time.Duration) {
	for {
		p.err = p.current().Wait()
		if p.err != nil || ctx.Err() != nil || p.restart == nil || !p.restart(p) {
			break
		}
		if p.err = p.run(ctx); p.err != nil {
			break
		}
	}
	var reason error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = fmt.Errorf("%s was stopped at its time limit of %v", p.Label, limit)
	case p.err != nil:
		reason = fmt.Errorf("%s exited: %w", p.Label, p.err)
	default:
		reason = fmt.Errorf("%s exited", p.Label)
	}
	p.end(reason)
	p.cancel()
	close(p.done)
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.current().Process.Pid }

// Wait waits up to timeout for the process to exit by itself and returns
// its exit error (nil for status 0).
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("pid %d still running after %v", p.Pid(), timeout)
	}
}

// Stop ends the process (SIGTERM, SIGKILL after 5 s) and waits for it.
func (p *Proc) Stop() {
	p.cancel()
	<-p.done
}

// Kill ends the process with SIGKILL, as a crash: it has no chance to
// finish anything. It waits for the process to be gone.
func (p *Proc) Kill() {
	p.current().Process.Kill()
	<-p.done
}
