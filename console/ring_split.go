package console

import (
	"bytes"
	"time"
)

// partial is the line being received: its bytes so far, the time its
// first byte arrived, and whether a \r ended it (a \n may follow).
type partial struct {
	text []byte
	at   time.Time
	open bool
	cr   bool
	done Line // the line end returned last
}

// step consumes bytes from the start of p (at least one, unless it ends
// the pending line first) and returns how many, with the line it
// completed, if any. \n, \r\n and a lone \r end a line (so do \r\r\n
// and \n\r: a \r at the start of a line moves nothing); a line reaching
// MaxLine bytes is cut when its next byte arrives.
func (s *partial) step(p []byte, t time.Time) (n int, done *Line) {
	switch c := p[0]; {
	case s.cr && c != '\n' && c != '\r':
		return 0, s.end()
	case c == '\n':
		s.start(t)
		return 1, s.end()
	case c == '\r':
		s.cr = s.cr || len(s.text) > 0
		return 1, nil
	case len(s.text) == MaxLine:
		return 0, s.end()
	}
	s.start(t)
	n = min(len(p), MaxLine-len(s.text))
	if i := bytes.IndexAny(p[:n], "\r\n"); i >= 0 {
		n = i
	}
	s.text = append(s.text, p[:n]...)
	return n, nil
}

// start stamps the line with t if this is its first byte.
func (s *partial) start(t time.Time) {
	if !s.open {
		s.open, s.at = true, t
	}
}

// end returns the pending line (valid until the next step; no
// allocation per line) and starts a new one.
func (s *partial) end() *Line {
	s.done = Line{At: s.at, Text: s.text}
	s.text, s.open, s.cr = s.text[:0], false, false
	return &s.done
}

// line returns a copy of the pending line, if one has begun.
func (s *partial) line() (Line, bool) {
	return Line{At: s.at, Text: bytes.Clone(s.text)}, s.open
}
