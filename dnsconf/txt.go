package dnsconf

import (
	"strconv"
	"strings"
)

// maxCharString is the longest character-string (RFC 1035 3.3).
const maxCharString = 255

// MaxTXTValue is the longest setting value served as a TXT record: with
// its length bytes and the rest of the reply it must fit in the 65,535
// bytes of a DNS message over TCP (RFC 1035 4.2.2). Longer values are
// left out of the zone (see Zone.Problems).
const MaxTXTValue = 64000

// SplitTXT cuts a value into the character-strings of a TXT record
// (RFC 1035 3.3.14): pieces of at most 255 bytes, one empty string for an
// empty value. Each piece is escaped the way miekg/dns keeps TXT.Txt
// (\" \\ and \DDD for bytes outside printable ASCII), so that any byte
// goes on the wire as it is.
func SplitTXT(value string) []string {
	out := make([]string, 0, len(value)/maxCharString+1)
	for {
		n := min(len(value), maxCharString)
		out = append(out, escapeTXT(value[:n]))
		value = value[n:]
		if value == "" {
			return out
		}
	}
}

func escapeTXT(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			b.WriteString(strconv.Itoa(int(c) + 1000)[1:]) // three digits
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < ' ' || c > '~' {
			return true
		}
	}
	return false
}

// JoinTXT is the inverse of SplitTXT: it unescapes the character-strings
// of a TXT record (as miekg/dns unpacks them) and concatenates them.
func JoinTXT(strs []string) string {
	var b strings.Builder
	for _, s := range strs {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c != '\\':
				b.WriteByte(c)
				continue
			case i+1 == len(s): // a dangling escape is dropped, as on the wire
				continue
			}
			if i+3 < len(s) && isDigits(s[i+1:i+4]) {
				n, _ := strconv.Atoi(s[i+1 : i+4])
				b.WriteByte(byte(n))
				i += 3
				continue
			}
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
