package tinydns

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	label64 := strings.Repeat("a", 64)
	tests := []struct {
		name, data string
		line       int
		is         error
		msg        string
	}{
		{"unknown type", "!x", 1, ErrUnrecognized, "unable to parse data line 1: unrecognized leading character"},
		{"ipv6 patch lines", "# c\n\n6x:1", 3, ErrUnrecognized, "unable to parse data line 3: unrecognized leading character"},
		{"SRV patch line", "+a:1.2.3.4\nSx:1", 2, ErrUnrecognized, "line 2"},
		{"type NS", ":x:2:abc", 1, ErrProhibited, "unable to parse data line 1: type NS prohibited"},
		{"type 0", ":x::abc", 1, ErrProhibited, "type 0 prohibited"},
		{"type 65536 is 0", ":x:65536:", 1, ErrProhibited, "type 0 prohibited"},
		{"type AXFR", ":x:252:", 1, ErrProhibited, "type AXFR prohibited"},
		{"types SOA CNAME PTR MX", ":x:6:\n", 1, ErrProhibited, "type SOA prohibited"},
		{"type CNAME", ":x:5:", 1, ErrProhibited, "type CNAME prohibited"},
		{"type PTR", ":x:12:", 1, ErrProhibited, "type PTR prohibited"},
		{"type MX", ":x:15:", 1, ErrProhibited, "type MX prohibited"},
		{"label of 64", "+" + label64 + ":1.2.3.4", 1, ErrName, "protocol error"},
		{"name of 256", "'" + longName(62) + ":x", 1, ErrName, "protocol error"},
		{"name of 259", "+" + longName(63) + ":1.2.3.4", 1, ErrName, "protocol error"},
		{"bad name without ip", "+" + label64, 1, ErrName, "protocol error"},
		{"name checked before type", ":" + label64 + ":2:", 1, ErrName, "protocol error"},
		{"x-rule makes too long a name", "&" + longName(61) + "::x", 1, ErrName, "protocol error"},
		{"MX server", "@a::" + label64 + ".b", 1, ErrName, "protocol error"},
		{"SOA rname", "Za:b:" + label64, 1, ErrName, "protocol error"},
		{"CNAME target", "Ca:" + label64, 1, ErrName, "protocol error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.data), Options{Serial: 1})
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if perr.Line != tc.line || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Parse error = %q (line %d), want line %d, %v, containing %q", err, perr.Line, tc.line, tc.is, tc.msg)
			}
		})
	}
}

func TestParseFuncStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ParseFunc(strings.NewReader("+a:1.2.3.4\n+b:1.2.3.4\n"), Options{}, func(Record) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("ParseFunc = %v after %d records, want the callback's error after 1", err, n)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	if _, err := Parse(failingReader{}, Options{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Parse = %v, want the read error", err)
	}
}
