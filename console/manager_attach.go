package console

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// notConnected is what an attached operator is told when typed bytes
// find no open session (between two ipmitool runs).
var notConnected = []byte("\r\n[console: not connected to the BMC: input dropped]\r\n")

// Attach connects an operator to system's console: bytes read from in go
// to the machine's serial port, and the console's live bytes (raw, as
// the machine sent them) are written to out, while capture goes on. One
// operator at a time: a second Attach gets ErrAttached. Every byte of in
// is passed on (ipmitool's escape character included, see EscapeChar);
// detaching is the client's: it closes in (DetachSequence in the CLI).
// Attach returns when in ends (nil), ctx ends, or the session is
// stopped; a read of in under way then is left to the caller, who
// closes in.
func (m *Manager) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	s, err := m.session(system)
	if err != nil {
		return err
	}
	if err := s.takeAttach(); err != nil {
		return err
	}
	defer s.releaseAttach()
	f, err := s.subscribe()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { copyOut(ctx, f.ch, out) })
	defer wg.Wait()
	defer cancel()
	defer s.unsubscribe(f)
	return s.typeIn(ctx, readChunks(ctx, in), f)
}

// typeIn sends what the operator types until in or ctx ends, or the
// session stops.
func (s *session) typeIn(ctx context.Context, typed <-chan []byte, f *follower) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return fmt.Errorf("console: system %s: the session was stopped", s.system)
		case p, ok := <-typed:
			if !ok {
				return nil
			}
			s.send(p, f)
		}
	}
}

// send types p into the running ipmitool, or tells f it could not.
func (s *session) send(p []byte, f *follower) {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	if proc != nil && proc.send(p) == nil {
		return
	}
	s.mu.Lock()
	f.offer(notConnected)
	s.mu.Unlock()
}

func (s *session) takeAttach() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attached {
		return fmt.Errorf("console: system %s: %w: try again when they detach", s.system, ErrAttached)
	}
	s.attached = true
	return nil
}

func (s *session) releaseAttach() {
	s.mu.Lock()
	s.attached = false
	s.mu.Unlock()
}

// readChunks reads in until it ends, handing each read on; the channel
// is closed at the end of in.
func readChunks(ctx context.Context, in io.Reader) <-chan []byte {
	ch := make(chan []byte)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 1024)
			n, err := in.Read(buf)
			if n > 0 {
				select {
				case ch <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// copyOut writes the follower's chunks to out until they end or ctx
// does; a failed write stops it.
func copyOut(ctx context.Context, ch <-chan []byte, out io.Writer) {
	for {
		select {
		case <-ctx.Done():
			return
		case p, ok := <-ch:
			if !ok {
				return
			}
			if _, err := out.Write(p); err != nil {
				return
			}
		}
	}
}
