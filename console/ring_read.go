package console

import (
	"fmt"
	"os"
	"time"
)

// Lines returns the lines that arrived at or after since, oldest first,
// with the partial last line (no line end yet) included.
func (r *Ring) Lines(since time.Time) ([]Line, error) {
	all, err := r.all()
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
	all, err := r.all()
	if err != nil {
		return nil, err
	}
	return all[max(0, len(all)-max(n, 0)):], nil
}

// all returns every line on disk and the partial one.
func (r *Ring) all() ([]Line, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("console: read %s: %w", r.files.name, os.ErrClosed)
	}
	lines, err := r.files.read()
	if err != nil {
		return nil, err
	}
	if l, ok := r.line.line(); ok {
		lines = append(lines, l)
	}
	return lines, nil
}
