package tinydns

import "strconv"

// scanNumber reads the leading decimal digits of b as scan_ulong does:
// the value wraps modulo 2^64 (unsigned long on 64-bit systems), and used
// is the number of digits, 0 when b does not start with one.
func scanNumber(b []byte) (n uint64, used int) {
	for used < len(b) && b[used] >= '0' && b[used] <= '9' {
		n = n*10 + uint64(b[used]-'0')
		used++
	}
	return n, used
}

// number returns the field's leading number, or def when it has no digit.
func number(b []byte, def uint64) uint64 {
	n, used := scanNumber(b)
	if used == 0 {
		return def
	}
	return n
}

// scanIP4 parses d.d.d.d as ip4_scan does: each part modulo 256, and text
// after the fourth number ignored.
func scanIP4(b []byte) (ip [4]byte, ok bool) {
	for i := range ip {
		if i > 0 {
			if len(b) == 0 || b[0] != '.' {
				return ip, false
			}
			b = b[1:]
		}
		n, used := scanNumber(b)
		if used == 0 {
			return ip, false
		}
		ip[i] = byte(n)
		b = b[used:]
	}
	return ip, true
}

// ipPrefix reads the dotted decimal bytes of a % line's prefix as
// ipprefix_cat does: dots are skipped, each number is taken modulo 256,
// and the first other byte ends the prefix.
func ipPrefix(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		if b[0] == '.' {
			b = b[1:]
			continue
		}
		n, used := scanNumber(b)
		if used == 0 {
			break
		}
		out = append(out, byte(n))
		b = b[used:]
	}
	return out
}

// parseTimestamp reads up to 16 hex digits into a TAI64 label. Only 0-9
// and a-f count; any other byte, including A-F, is a zero nibble.
func parseTimestamp(b []byte) (ts [8]byte) {
	for i := 0; i < 16 && i < len(b); i++ {
		var v byte
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		}
		if i&1 == 0 {
			v <<= 4
		}
		ts[i>>1] |= v
	}
	return ts
}

// parseLocation takes the first two bytes of the field, zero-padded.
func parseLocation(b []byte) (loc [2]byte) {
	copy(loc[:], b)
	return loc
}

// unescape decodes \ooo (1-3 octal digits, modulo 256) and \c (c itself);
// a trailing lone backslash is dropped. This is txtparse, also used for
// the labels of domain names.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		c, n := unescapeAt(b)
		if n == 0 {
			break
		}
		out = append(out, c)
		b = b[n:]
	}
	return out
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// reverseName returns d.c.b.a.in-addr.arpa for ip a.b.c.d in wire format.
func reverseName(ip [4]byte) []byte {
	var name []byte
	for i := 3; i >= 0; i-- {
		label := strconv.Itoa(int(ip[i]))
		name = append(name, byte(len(label)))
		name = append(name, label...)
	}
	return append(name, "\007in-addr\004arpa\000"...)
}
