package tinydns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// numFields is how many ':'-separated fields tinydns-data reads from a line.
const numFields = 15

// Options control parsing.
type Options struct {
	// Serial is the SOA serial of . lines, and of Z lines without one.
	// tinydns-data uses the modification time of data (unix seconds); 0
	// becomes 1, as there.
	Serial uint32
}

// ErrUnrecognized reports a line whose first byte is not a known type.
var ErrUnrecognized = errors.New("unrecognized leading character")

// ErrProhibited reports a : line with a type tinydns-data refuses.
var ErrProhibited = errors.New("prohibited")

// A ParseError tells which line of a data file is wrong.
type ParseError struct {
	Line int // 1-based
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("unable to parse data line %d: %v", e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a tinydns-data 1.05 data file and returns its records in the
// order tinydns-data adds them to data.cdb.
func Parse(r io.Reader, opts Options) ([]Record, error) {
	var recs []Record
	err := ParseFunc(r, opts, func(rec Record) error {
		recs = append(recs, rec)
		return nil
	})
	return recs, err
}

// ParseFunc reads a data file and calls fn with each record in data.cdb
// order. It stops at the first bad line or the first error from fn; an
// error from fn is returned as is.
func ParseFunc(r io.Reader, opts Options, fn func(Record) error) error {
	p := &parser{emit: fn, serial: max(opts.Serial, 1)}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("tinydns: read data: %w", err)
		}
		if perr := p.line(line); perr != nil {
			var emitErr *emitError
			if errors.As(perr, &emitErr) {
				return emitErr.err
			}
			return &ParseError{Line: n, Err: perr}
		}
		if err != nil {
			return nil
		}
	}
}

// emitError carries an error from the caller's fn through the parser.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }

// parser holds what one data file's lines share.
type parser struct {
	emit   func(Record) error
	serial uint32
}

// line parses one line, with or without its '\n'.
func (p *parser) line(line []byte) error {
	line = bytes.TrimRight(line, " \t\n")
	if len(line) == 0 || line[0] == '#' || line[0] == '-' {
		return nil
	}
	f := splitFields(line[1:])
	switch line[0] {
	case '%':
		return p.location(f)
	case 'Z':
		return p.soa(f)
	case '.', '&':
		return p.ns(f, line[0] == '.')
	case '+', '=':
		return p.a(f, line[0] == '=')
	case '@':
		return p.mx(f)
	case '^', 'C':
		return p.pointer(f, line[0] == 'C')
	case '\'':
		return p.txt(f)
	case ':':
		return p.generic(f)
	}
	return ErrUnrecognized
}

// splitFields splits the text after the type byte on ':' into exactly
// numFields fields; missing ones are empty and the rest of the line after
// the last one is ignored.
func splitFields(b []byte) (f [numFields][]byte) {
	for i := range f {
		if len(b) == 0 {
			break
		}
		j := bytes.IndexByte(b, ':')
		if j < 0 {
			f[i], b = b, nil
			break
		}
		f[i], b = b[:j], b[j+1:]
	}
	return f
}
