package tinydns

import (
	"errors"
	"fmt"
	"strings"
)

// ErrName is the "protocol error" tinydns-data dies with when a domain
// name has a label over 63 bytes or is over 255 bytes in wire format.
var ErrName = errors.New("protocol error")

// Wire-format limits (RFC 1035 section 2.3.4).
const (
	maxLabel = 63
	maxName  = 255
)

// ParseName converts a dotted name as written in a data file to wire
// format, as dns_domain_fromdot does: empty labels are dropped (so "a..b."
// is "a.b" and "" is the root), \ooo is an octal byte and \c is c (so \.
// is a dot inside a label). Case is kept.
func ParseName(name string) ([]byte, error) {
	return parseName([]byte(name))
}

func parseName(b []byte) ([]byte, error) {
	var wire, label []byte
	flush := func() error {
		if len(label) == 0 {
			return nil
		}
		if len(wire)+len(label)+1 > maxName {
			return fmt.Errorf("%w: name %q longer than %d bytes", ErrName, b, maxName)
		}
		wire = append(append(wire, byte(len(label))), label...)
		label = label[:0]
		return nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] == '.' {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		c, n := unescapeAt(b[i:])
		if n == 0 {
			break // a trailing lone backslash
		}
		i += n - 1
		if len(label) == maxLabel {
			return nil, fmt.Errorf("%w: label in %q longer than %d bytes", ErrName, b, maxLabel)
		}
		label = append(label, c)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(wire)+1 > maxName {
		return nil, fmt.Errorf("%w: name %q longer than %d bytes", ErrName, b, maxName)
	}
	return append(wire, 0), nil
}

// unescapeAt decodes the byte at the start of b, which may be an escape,
// and returns it with the number of input bytes used (0 for a lone "\").
func unescapeAt(b []byte) (byte, int) {
	if b[0] != '\\' {
		return b[0], 1
	}
	if len(b) == 1 {
		return 0, 0
	}
	c, n := b[1], 2
	if isOctal(c) {
		c -= '0'
		for ; n < 4 && n < len(b) && isOctal(b[n]); n++ {
			c = c<<3 + b[n] - '0'
		}
	}
	return c, n
}

// lowerASCII returns a copy of b with A-Z lowercased; other bytes are kept.
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// ownerKey turns a wire owner name into its cdb key: lowercased, with a
// first label of exactly "*" removed and reported as a wildcard.
func ownerKey(wire []byte) (key []byte, wildcard bool) {
	if len(wire) >= 2 && wire[0] == 1 && wire[1] == '*' {
		return lowerASCII(wire[2:]), true
	}
	return lowerASCII(wire), false
}

// labels splits a wire name that ends exactly at the end of b.
func labels(b []byte) ([][]byte, error) {
	if len(b) > maxName {
		return nil, fmt.Errorf("%w: name of %d bytes", ErrData, len(b))
	}
	var out [][]byte
	for i := 0; ; {
		if i >= len(b) {
			return nil, fmt.Errorf("%w: name not terminated", ErrData)
		}
		n := int(b[i])
		if n == 0 {
			if i+1 != len(b) {
				return nil, fmt.Errorf("%w: %d bytes after the name", ErrData, len(b)-i-1)
			}
			return out, nil
		}
		if n > maxLabel || i+1+n > len(b) {
			return nil, fmt.Errorf("%w: bad label length %d", ErrData, n)
		}
		out = append(out, b[i+1:i+1+n])
		i += 1 + n
	}
}

// nameLen returns the length of the wire name at the start of b.
func nameLen(b []byte) (int, error) {
	for i := 0; i < len(b); i += 1 + int(b[i]) {
		if b[i] == 0 {
			return i + 1, nil
		}
		if b[i] > maxLabel {
			return 0, fmt.Errorf("%w: bad label length %d", ErrData, b[i])
		}
	}
	return 0, fmt.Errorf("%w: name not terminated", ErrData)
}

// formatName writes a wire name in data-file syntax, without a final dot
// ("" for the root). Bytes other than letters, digits, '-', '_' and '*'
// are written as \ooo.
func formatName(wire []byte) (string, error) {
	ls, err := labels(wire)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = escape(l, isNameByte)
	}
	return strings.Join(parts, "."), nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*'
}
