package dnsconf

import (
	"github.com/miekg/dns"
)

// maxChase bounds how many CNAMEs (static records) one answer follows.
const maxChase = 8

// Answer computes the reply to req from z, or returns nil when req must
// not be answered (it is a response). maxUDP is the largest UDP reply
// this server sends (DefaultMaxUDP), or 0 for a reply over TCP.
//
// The reply is authoritative (AA) for the origin and the reverse zones;
// other names are REFUSED (Server forwards them for some clients,
// Config.Forward). A missing name is NXDOMAIN and a name without
// records of the asked type (an empty non-terminal too, RFC 8020) is
// NODATA, both with the SOA in the authority section (RFC 2308). Names are
// case-insensitive; the question is echoed as asked, records keep the
// zone's lowercase names. ANY gets every record at the name (RFC 8482
// allows less; the zone holds no large RRsets but TXT, which a UDP reply
// truncates anyway). Static CNAMEs are followed inside the zone. Zone
// transfers are REFUSED. An EDNS0 OPT record (RFC 6891) is echoed when
// the query has one. A query that breaks the rules of one (not one
// question, answer or authority records, a non-zero rcode, an OPT record
// not at the root or more than one) gets FORMERR, as from NSD: the
// header alone, with our OPT record when the query had a valid one (RFC
// 6891 7). A UDP reply larger than the client's buffer (512
// bytes without EDNS0, else its EDNS0 size, capped at maxUDP) is sent
// empty with TC set (RFC 2181 9), so that the client retries over TCP.
func Answer(z *Zone, req *dns.Msg, maxUDP int) *dns.Msg {
	m, _ := answer(z, req, maxUDP)
	return m
}

// answer is Answer returning the packed reply too, for the server.
func answer(z *Zone, req *dns.Msg, maxUDP int) (*dns.Msg, []byte) {
	return reply(z, req, maxUDP, false)
}

// reply is answer with RA set when ra: to a client whose queries for
// other names are forwarded (Config.Recursion).
func reply(z *Zone, req *dns.Msg, maxUDP int, ra bool) (*dns.Msg, []byte) {
	if req == nil || req.Response {
		return nil, nil // never answer a response (RFC 1035 4.1.1): no loops
	}
	if malformed(req) {
		return formErr(req, maxUDP, ra)
	}
	m := new(dns.Msg)
	m.Id, m.Response, m.Opcode = req.Id, true, req.Opcode
	m.RecursionDesired, m.CheckingDisabled, m.RecursionAvailable = req.RecursionDesired, req.CheckingDisabled, ra
	m.Compress = true
	if len(req.Question) == 1 {
		m.Question = []dns.Question{req.Question[0]}
	}
	opt, rcode := edns(req, maxUDP)
	if rcode == dns.RcodeSuccess {
		rcode = resolve(z, req, m)
	}
	m.Rcode = rcode
	return fit(m, opt, udpLimit(req, maxUDP))
}

// resolve fills m's sections and returns the rcode.
func resolve(z *Zone, req *dns.Msg, m *dns.Msg) int {
	switch {
	case req.Opcode != dns.OpcodeQuery:
		return dns.RcodeNotImplemented
	case req.Question[0].Qclass != dns.ClassINET:
		return dns.RcodeRefused
	case z == nil:
		return dns.RcodeServerFailure // no zone yet
	}
	q := req.Question[0]
	name := canonicalName(q.Name)
	a := z.apexOf(name)
	if a == nil {
		return dns.RcodeRefused // not ours, and not forwarded (Config.Forward)
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		return dns.RcodeRefused // no zone transfers: cdb files carry the data
	}
	m.Authoritative = true
	return z.lookup(m, a, name, q.Qtype)
}

// malformed reports whether req is no valid query: one question (RFC
// 1035 4.1.2; RFC 7873's cookie-only query is not served), no answer or
// authority records, rcode 0 (the extended one too), at most one OPT
// record, at the root (RFC 6891 6.1.1).
func malformed(req *dns.Msg) bool {
	if len(req.Question) != 1 || len(req.Answer) != 0 || len(req.Ns) != 0 || req.Rcode != dns.RcodeSuccess {
		return true
	}
	opts := 0
	for _, rr := range req.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			if opts++; opts > 1 || rr.Header().Name != "." {
				return true
			}
		}
	}
	return false
}

// formErr is the FORMERR reply to req: its ID, opcode, RD and CD bits,
// RA when ra, no question (NSD's way), and our OPT record when req has
// one valid OPT record.
func formErr(req *dns.Msg, maxUDP int, ra bool) (*dns.Msg, []byte) {
	m := new(dns.Msg)
	m.Id, m.Response, m.Opcode, m.Rcode = req.Id, true, req.Opcode, dns.RcodeFormatError
	m.RecursionDesired, m.CheckingDisabled, m.RecursionAvailable = req.RecursionDesired, req.CheckingDisabled, ra
	opt, _ := edns(req, maxUDP)
	return fit(m, opt, udpLimit(req, maxUDP))
}

// lookup answers qtype at name inside apex a, following static CNAMEs.
func (z *Zone) lookup(m *dns.Msg, a *apex, name string, qtype uint16) int {
	for hop := 0; ; hop++ {
		n := z.node(name)
		if n == nil {
			m.Ns = []dns.RR{a.soa}
			return dns.RcodeNameError // NXDOMAIN; after a CNAME, for its target (RFC 6604)
		}
		if rrs := z.records(n, qtype); len(rrs) > 0 {
			m.Answer = append(m.Answer, rrs...)
			if qtype == dns.TypeNS {
				m.Extra = append(m.Extra, z.glue(rrs)...)
			}
			return dns.RcodeSuccess
		}
		cname := n.get(dns.TypeCNAME)
		if cname == nil || hop == maxChase {
			if cname == nil {
				m.Ns = []dns.RR{a.soa} // NODATA
			}
			return dns.RcodeSuccess
		}
		m.Answer = append(m.Answer, cname[0])
		name = canonicalName(cname[0].(*dns.CNAME).Target)
		if a = z.apexOf(name); a == nil {
			return dns.RcodeSuccess // the client resolves the rest
		}
	}
}

func (z *Zone) records(n *node, qtype uint16) []dns.RR {
	if qtype == dns.TypeANY {
		return n.all()
	}
	return n.get(qtype)
}

// glue returns the addresses of in-zone name servers, for the additional
// section of an NS answer.
func (z *Zone) glue(ns []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range ns {
		if n := z.node(canonicalName(rr.(*dns.NS).Ns)); n != nil {
			out = append(append(out, n.get(dns.TypeA)...), n.get(dns.TypeAAAA)...)
		}
	}
	return out
}
