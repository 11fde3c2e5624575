package console

import (
	"fmt"
	"os"
	"time"
)

// Lines returns the lines that arrived at or after since, oldest first,
// with the partial last line (no line end yet) included.
func (r *Ring) Lines(since time.Time) ([]Line, error) {
	all, err := r.read(-1)
	if err != nil {
		return nil, err
	}
	lines := all[:0]
	for _, l := range all {
		if !l.At.Before(since) {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// Tail returns the last n lines, the partial last line included.
func (r *Ring) Tail(n int) ([]Line, error) {
	n = max(n, 0)
	all, err := r.read(n)
	if err != nil {
		return nil, err
	}
	return all[max(0, len(all)-n):], nil
}

// read returns the lines on disk and the partial one, oldest first:
// those of NAME.log, and those of NAME.log.1 before them unless NAME.log
// already has n (all of them if n < 0).
func (r *Ring) read(n int) ([]Line, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("console: read %s: %w", r.files.name, os.ErrClosed)
	}
	lines, err := r.files.readCur()
	if err != nil {
		return nil, err
	}
	if l, ok := r.line.line(); ok {
		lines = append(lines, l)
	}
	if n >= 0 && len(lines) >= n {
		return lines, nil
	}
	old, err := r.files.readOld()
	return append(old, lines...), err
}
