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
	written := 0
	for written < len(p) {
		n, done := r.line.step(p[written:], t)
		if done != nil {
			if err := r.store(done); err != nil {
				return written, err
			}
		}
		written += n
	}
	return written, nil
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

// store appends a line's record, first rotating if NAME.log would grow
// past half the ring.
func (r *Ring) store(l *Line) error {
	r.buf = appendRecord(r.buf[:0], *l)
	if r.files.size > 0 && r.files.size+int64(len(r.buf)) > r.max/2 {
		if err := r.files.rotate(); err != nil {
			return err
		}
	}
	return r.files.append(r.buf)
}
