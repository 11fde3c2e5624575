package console

import (
	"fmt"
	"os"
	"time"
)

// Write records raw bytes from the BMC. A line is stamped with the time
// its first byte arrived (times never go back); a line longer than
// MaxLine is cut into lines of MaxLine bytes.
func (r *Ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, fmt.Errorf("console: write %s: %w", r.files.name, os.ErrClosed)
	}
	t := r.stamp()
	r.buf = r.buf[:0]
	for written := 0; written < len(p); {
		n, done := r.line.step(p[written:], t)
		if done != nil {
			if err := r.store(done); err != nil {
				return written, err
			}
		}
		written += n
	}
	return len(p), r.flush()
}

// stamp returns the time now, never before the last one given, without
// its monotonic reading (as it comes back from disk).
func (r *Ring) stamp() time.Time {
	t := time.Unix(0, r.now().UnixNano())
	if t.Before(r.last) {
		t = r.last
	}
	r.last = t
	return t
}

// store encodes a line's record into the batch of this Write, first
// writing out the batch and rotating if NAME.log would grow past half the
// ring.
func (r *Ring) store(l *Line) error {
	rec := recordLen(l)
	if r.files.size+int64(len(r.buf)+rec) > r.max/2 && r.files.size+int64(len(r.buf)) > 0 {
		if err := r.flush(); err != nil {
			return err
		}
		if err := r.files.rotate(); err != nil {
			return err
		}
	}
	r.buf = appendRecord(r.buf, *l)
	return nil
}

// flush writes the batch of whole records with one write.
func (r *Ring) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	err := r.files.append(r.buf)
	r.buf = r.buf[:0]
	return err
}
