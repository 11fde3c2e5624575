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
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Proc is a background process started by Env.Exec or Env.BootVM. Its
// standard output and error go to the embedded Transcript.
type Proc struct {
	*Transcript
	Label  string   // what it is: "qemu 52:54:00:12:34:56", a program name
	Args   []string // its command line
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{}
	err    error // from cmd.Wait, set before done is closed
}

// start starts args and stops it (SIGTERM, then SIGKILL) at Close, when
// the Env's context ends, or after limit if limit > 0. The kernel kills
// it too if this process dies (PR_SET_PDEATHSIG).
func (e *Env) start(label string, limit time.Duration, args ...string) (*Proc, error) {
	ctx, cancel := context.WithCancel(e.ctx)
	if limit > 0 {
		ctx, cancel = context.WithTimeout(e.ctx, limit)
	}
	p := &Proc{Transcript: newTranscript(), Label: label, Args: args, cancel: cancel, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p.Transcript, p.Transcript
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
			w := io.MultiWriter(p.Transcript, f)
			p.cmd.Stdout, p.cmd.Stderr = w, w
		}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = stopGrace
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("lab: start %s: %w", strings.Join(args, " "), err)
	}
	go p.wait(ctx, limit)
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	e.Defer(p.Stop)
	return p, nil
}

func (p *Proc) wait(ctx context.Context, limit time.Duration) {
	p.err = p.cmd.Wait()
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
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

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
	p.cmd.Process.Kill()
	<-p.done
}
