package dnsconf

import (
	"github.com/miekg/dns"
)

// edns checks the query's OPT record (RFC 6891) and returns the one to
// send back (nil when the query had none) and an error rcode, if any.
func edns(req *dns.Msg, maxUDP int) (*dns.OPT, int) {
	var in *dns.OPT
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			if in != nil || o.Hdr.Name != "." {
				return nil, dns.RcodeFormatError // RFC 6891 6.1.1: at most one OPT, at the root
			}
			in = o
		}
	}
	if in == nil {
		return nil, dns.RcodeSuccess
	}
	out := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	out.SetUDPSize(uint16(advertised(maxUDP)))
	if in.Do() {
		out.SetDo() // RFC 3225 3: the DO bit is copied
	}
	if in.Version() != 0 {
		return out, dns.RcodeBadVers // RFC 6891 6.1.3
	}
	return out, dns.RcodeSuccess
}

// advertised is the UDP payload size announced in our OPT record.
func advertised(maxUDP int) int {
	if maxUDP <= 0 {
		return DefaultMaxUDP
	}
	return max(maxUDP, dns.MinMsgSize)
}

// udpLimit is the largest reply the client takes: 512 bytes over UDP
// without EDNS0 (RFC 1035 4.2.1), its EDNS0 size (at least 512, RFC 6891
// 6.2.5) capped at maxUDP, and a whole DNS message over TCP.
func udpLimit(req *dns.Msg, maxUDP int) int {
	if maxUDP <= 0 {
		return dns.MaxMsgSize
	}
	if o := req.IsEdns0(); o != nil {
		return min(max(int(o.UDPSize()), dns.MinMsgSize), advertised(maxUDP))
	}
	return dns.MinMsgSize
}

// fit packs m with opt and, when it exceeds limit, empties it and sets TC
// instead of sending part of an RRset (RFC 2181 9).
func fit(m *dns.Msg, opt *dns.OPT, limit int) (*dns.Msg, []byte) {
	// Packing writes each record's header (its rdata length), and the
	// zone's records are shared by every reply and by data.cdb's encoder:
	// pack copies. (The UDP fast path packs a question once per worker.)
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for i, rr := range sec {
			sec[i] = dns.Copy(rr)
		}
	}
	if opt != nil {
		m.Extra = append(m.Extra, opt)
	}
	b, err := m.Pack()
	if err == nil && len(b) <= limit {
		return m, b
	}
	if err != nil {
		m.Rcode = dns.RcodeServerFailure
	} else {
		m.Truncated = true
	}
	m.Answer, m.Ns, m.Extra = nil, nil, nil
	if opt != nil {
		m.Extra = []dns.RR{opt}
	}
	b, err = m.Pack()
	if err != nil {
		return m, nil // the question itself does not pack: nothing to send
	}
	return m, b
}
