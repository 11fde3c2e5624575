package console

import (
	"context"
	"fmt"
)

// followBuffer is how many chunks a reader may fall behind before bytes
// are dropped for it.
const followBuffer = 256

// follower is one live reader of a session.
type follower struct {
	ch      chan []byte
	dropped int64 // bytes dropped since the last notice
}

// offer hands p to f without waiting, and returns how many bytes were
// dropped because f is behind. After a drop, f's next chunk is a notice
// saying how many bytes it missed.
func (f *follower) offer(p []byte) int64 {
	if f.dropped > 0 {
		note := fmt.Appendf(nil, "\r\n[console: %d bytes dropped: this reader fell behind]\r\n", f.dropped)
		select {
		case f.ch <- note:
			f.dropped = 0
		default:
			f.dropped += int64(len(p))
			return int64(len(p))
		}
	}
	select {
	case f.ch <- p:
		return 0
	default:
		f.dropped += int64(len(p))
		return int64(len(p))
	}
}

// Follow returns the live bytes of system's console, from now on, until
// ctx ends or the session is stopped; then the channel is closed. The
// bytes are raw (Clean them to show them as text) and shared: do not
// modify them. A reader that falls behind does not slow the session or
// the others: bytes are dropped for it, and a notice in the stream says
// how many.
func (m *Manager) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	s, err := m.session(system)
	if err != nil {
		return nil, err
	}
	f, err := s.subscribe()
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			s.unsubscribe(f)
		case <-s.done:
		}
	}()
	return f.ch, nil
}

// subscribe adds a follower, unless s is stopped.
func (s *session) subscribe() (*follower, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status.State == StateStopped {
		return nil, fmt.Errorf("console: system %s: %w", s.system, ErrNotCaptured)
	}
	f := &follower{ch: make(chan []byte, followBuffer)}
	s.followers[f] = struct{}{}
	return f, nil
}

// unsubscribe removes f and closes its channel (once).
func (s *session) unsubscribe(f *follower) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.followers[f]; ok {
		delete(s.followers, f)
		close(f.ch)
	}
}

// closeFollowers closes every follower's channel: the session is over.
func (s *session) closeFollowers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := range s.followers {
		delete(s.followers, f)
		close(f.ch)
	}
}
