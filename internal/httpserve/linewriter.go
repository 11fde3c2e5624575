package httpserve

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// LineWriter passes what is written to it, whole log lines as slog's
// handlers write them (one Write a line), on to w from a goroutine of its
// own, so that the boot handler's line for each request costs a copy, not
// a write(2) to stderr under the handler's lock: a file, a pipe to
// journald or a terminal, all the requests' goroutines in turn. Lines go
// out in order, in writes of whole lines of at most 4 KiB (PIPE_BUF: a
// pipe does not mix such a write with another writer's, the lines others
// log straight to the same stderr; 64 KiB to a regular file, which Linux
// writes one write at a time), as soon as the goroutine gets to them:
// one write for all the lines of a burst. A Write waits when more than
// 1 MiB is waiting (w cannot keep up): no line is dropped. Close writes
// what is left; after it, Write writes to w itself.
type LineWriter struct {
	w      io.Writer
	chunk  int // bytes a write
	mu     sync.Mutex
	room   sync.Cond // signaled when the goroutine takes the buffer
	buf    []byte
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

const (
	lineChunk     = 4 << 10 // PIPE_BUF
	lineFileChunk = 64 << 10
	lineBacklog   = 1 << 20
)

// NewLineWriter starts a LineWriter to w; Close stops it.
func NewLineWriter(w io.Writer) *LineWriter {
	l := &LineWriter{w: w, chunk: lineChunk, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			l.chunk = lineFileChunk
		}
	}
	l.room.L = &l.mu
	go l.run()
	return l
}

// Write queues p, which should be whole lines; it does not fail.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	for len(l.buf) >= lineBacklog && !l.closed {
		l.room.Wait()
	}
	if l.closed {
		defer l.mu.Unlock()
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	select { // under mu: Close cannot have closed wake
	case l.wake <- struct{}{}:
	default: // already woken
	}
	l.mu.Unlock()
	return len(p), nil
}

// Close writes the lines still queued, and stops the goroutine.
func (l *LineWriter) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.wake)
	<-l.done
	return nil
}

func (l *LineWriter) run() {
	defer close(l.done)
	var out []byte
	for range l.wake {
		for {
			l.mu.Lock()
			out, l.buf = l.buf, out[:0]
			l.room.Broadcast()
			l.mu.Unlock()
			if len(out) == 0 {
				break
			}
			writeLines(l.w, out, l.chunk)
		}
	}
	l.mu.Lock()
	out, l.buf = l.buf, nil
	l.room.Broadcast()
	l.mu.Unlock()
	writeLines(l.w, out, l.chunk)
}

// writeLines writes b in pieces of whole lines, of at most chunk bytes
// unless a line alone is longer. A write error drops the piece, as slog's
// handlers drop a line they cannot write.
func writeLines(w io.Writer, b []byte, chunk int) {
	for len(b) > 0 {
		n := len(b)
		if n > chunk {
			n = bytes.LastIndexByte(b[:chunk], '\n') + 1
			if n == 0 { // one long line
				if i := bytes.IndexByte(b, '\n'); i >= 0 {
					n = i + 1
				} else {
					n = len(b)
				}
			}
		}
		w.Write(b[:n])
		b = b[n:]
	}
}
