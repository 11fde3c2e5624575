package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// solProc is one running "ipmitool sol activate": its terminal (the
// machine's bytes come out of it, the operator's go in) and its error
// messages.
type solProc struct {
	cmd    *exec.Cmd
	tty    *os.File // the pseudo-terminal's master side
	stderr *tailBuffer
	mu     sync.Mutex // guards esc and writes
	esc    escaper
}

// startSOL starts ipmitool sol activate against b under a pseudo-terminal
// in raw mode (no echo, no line editing: bytes pass as they are).
func startSOL(ctx context.Context, t tool, b BMC) (*solProc, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("console: pseudo-terminal: %w", err)
	}
	defer slave.Close()
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		master.Close()
		return nil, fmt.Errorf("console: pseudo-terminal: %w", err)
	}
	p := &solProc{cmd: t.command(ctx, b, "sol", "activate"), tty: master, stderr: &tailBuffer{max: 4 << 10}}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		master.Close()
		return nil, fmt.Errorf("console: bmc %s: %w", b, err)
	}
	return p, nil
}

// Read reads what ipmitool printed on its terminal: the machine's bytes,
// after its banner. It fails (EIO) once ipmitool has exited.
func (p *solProc) Read(b []byte) (int, error) { return p.tty.Read(b) }

// send types p into the session.
func (p *solProc) send(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.tty.Write(p.esc.encode(b))
	return err
}

// wait waits for ipmitool to exit and returns why it did.
func (p *solProc) wait() error {
	err := p.cmd.Wait()
	p.tty.Close()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("ipmitool: %w", err)
	}
	return classify(p.stderr.String())
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.Clone(t.buf))
}
