package dnsconf

import (
	"github.com/miekg/dns"
)

// parse reads the wire query b, from a client that may recurse when ra.
// It returns the message, or nil and the reply to send instead: FORMERR
// for a message that does not parse (the header alone) or whose names
// point into the header (RFC 1035 4.1.4: a pointer points to an earlier
// name, and the header holds none; miekg/dns follows it), NOTIMP for an
// opcode other than QUERY and NOTIFY (the header alone, as NSD), and
// neither for a response (never answered: no loops). The other rules of
// a query (one question, no answer or authority records, rcode 0, one
// OPT at the root) are reply's, with the query in hand.
func (s *Server) parse(b []byte, maxUDP int, ra bool) (*dns.Msg, []byte) {
	h, ok := header(b)
	if !ok {
		s.stats.malformed.Add(1)
		return nil, nil
	}
	if h.Bits&(1<<15) != 0 {
		return nil, nil // a response
	}
	switch opcode := int(h.Bits>>11) & 0xf; opcode {
	case dns.OpcodeQuery, dns.OpcodeNotify:
	default:
		s.stats.rcodes[dns.RcodeNotImplemented].Add(1)
		return nil, headerReply(b, dns.RcodeNotImplemented, opcode)
	}
	req := new(dns.Msg)
	if err := req.Unpack(b); err != nil {
		s.stats.malformed.Add(1)
		s.stats.rcodes[dns.RcodeFormatError].Add(1)
		return nil, headerReply(b, dns.RcodeFormatError, dns.OpcodeQuery)
	}
	if intoHeader(b, h) {
		s.stats.malformed.Add(1)
		m, out := formErr(req, maxUDP, ra)
		s.stats.reply(m)
		return nil, out
	}
	return req, nil
}

// headerReply is the reply to a query that is not parsed: its header
// with QR, the rcode and the opcode, RD and CD copied, no records.
func headerReply(b []byte, rcode, opcode int) []byte {
	m := new(dns.Msg)
	m.Id = uint16(b[0])<<8 | uint16(b[1])
	m.Response, m.Rcode, m.Opcode = true, rcode, opcode
	m.RecursionDesired, m.CheckingDisabled = b[2]&1 != 0, b[3]&0x10 != 0
	out, err := m.Pack()
	if err != nil {
		return nil
	}
	return out
}

// intoHeader reports whether an owner name of b (header h), or a name
// it points to, has a compression pointer into the header. A message
// cut short is Unpack's to refuse.
func intoHeader(b []byte, h dns.Header) bool {
	off := 12
	n := int(h.Qdcount) + int(h.Ancount) + int(h.Nscount) + int(h.Arcount)
	for i := range n {
		next, bad := skipName(b, off)
		if bad || next < 0 {
			return bad
		}
		off = next + 4 // type, class
		if i >= int(h.Qdcount) {
			if off+6 > len(b) {
				return false
			}
			off += 6 + (int(b[off+4])<<8 | int(b[off+5])) // TTL, RDLENGTH, RDATA
		}
	}
	return false
}

// skipName returns the offset after the name at off (-1 when it runs
// off b or loops), and whether it, or a name it points to, points into
// the header.
func skipName(b []byte, off int) (int, bool) {
	next := -1
	for hops := 0; off < len(b) && hops < 64; {
		c := int(b[off])
		switch {
		case c == 0:
			if next < 0 {
				next = off + 1
			}
			return next, false
		case c&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return -1, false
			}
			if next < 0 {
				next = off + 2
			}
			if off = (c&0x3f)<<8 | int(b[off+1]); off < 12 {
				return -1, true
			}
			hops++
		case c&0xc0 != 0:
			return -1, false // a label type of RFC 6891's past: Unpack refuses it
		default:
			off += 1 + c
		}
	}
	return -1, false
}
