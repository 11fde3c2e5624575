package dnsconf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultUpstreamTimeout bounds one try of one upstream resolver; a
// forwarded query gives up after twice that.
const DefaultUpstreamTimeout = 2 * time.Second

// forwarder sends the queries for names outside the zone to upstream
// resolvers, in turn, and caches their answers.
type forwarder struct {
	upstreams []string      // IP:PORT, tried in order
	timeout   time.Duration // one try
	udpSize   uint16        // EDNS0 buffer offered to upstreams
	cache     *cache
	stats     *counters
	log       *slog.Logger
}

func newForwarder(cfg Config, stats *counters, log *slog.Logger) (*forwarder, error) {
	f := &forwarder{timeout: cfg.UpstreamTimeout, udpSize: uint16(advertised(cfg.MaxUDP)), stats: stats, log: log,
		cache: newCache(cfg.CacheSize, time.Now)}
	if f.timeout == 0 {
		f.timeout = DefaultUpstreamTimeout
	}
	if f.timeout < 0 {
		return nil, fmt.Errorf("%w: UpstreamTimeout %s is negative", ErrOptions, cfg.UpstreamTimeout)
	}
	for _, up := range cfg.Forward {
		if !up.IsValid() || up.Port() == 0 || up.Addr().IsUnspecified() {
			return nil, fmt.Errorf("%w: upstream resolver %s is not IP:PORT", ErrOptions, up)
		}
		f.upstreams = append(f.upstreams, up.String())
	}
	return f, nil
}

// clientIP is the address a query came from, over UDP or TCP.
func clientIP(from net.Addr) netip.Addr {
	var ip net.IP
	switch a := from.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// mayRecurse reports whether the queries of the client at from are
// forwarded when their name is outside the zone (Config.Recursion).
func (s *Server) mayRecurse(from net.Addr) bool {
	return s.fwd != nil && s.cfg.Recursion != nil && s.cfg.Recursion(clientIP(from))
}

// forwardable reports whether req is a query an upstream resolver should
// answer: one question of class IN for a name outside z, opcode QUERY,
// no zone transfer, and no EDNS0 error. Anything else is answered from
// the zone (and outside it REFUSED), as for a client that may not
// recurse. Without a zone yet nothing is forwarded: what is ours is not
// known.
func forwardable(z *Zone, req *dns.Msg, maxUDP int) bool {
	if z == nil || req == nil || req.Response || req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return false
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		return false
	}
	if _, rcode := edns(req, maxUDP); rcode != dns.RcodeSuccess {
		return false
	}
	return z.apexOf(canonicalName(q.Name)) == nil
}

// forward answers req (forwardable) from the cache or an upstream, and
// returns the reply packed like answer's: the client's ID, question and
// RD and CD bits, RA set, the upstream's rcode and records, our EDNS0
// record, and TC with no records when it does not fit the client's UDP
// buffer. When no upstream answers, the reply is SERVFAIL. maxUDP is 0
// over TCP: then an answer an upstream truncated over UDP is asked again
// over TCP.
func (f *forwarder) forward(ctx context.Context, req *dns.Msg, maxUDP int) (*dns.Msg, []byte) {
	q := req.Question[0]
	opt, _ := edns(req, maxUDP)
	k := cacheKey{name: canonicalName(q.Name), qtype: q.Qtype, qclass: q.Qclass, do: opt != nil && opt.Do(), cd: req.CheckingDisabled}
	r, hit := f.cache.get(k)
	if hit {
		f.stats.cacheHits.Add(1)
	} else {
		f.stats.forwarded.Add(1)
		if r = f.exchange(ctx, k, maxUDP == 0); r != nil {
			f.cache.put(k, r)
		}
	}
	m := new(dns.Msg)
	m.Id, m.Response, m.Opcode = req.Id, true, req.Opcode
	m.RecursionDesired, m.CheckingDisabled, m.RecursionAvailable = req.RecursionDesired, req.CheckingDisabled, true
	m.Compress = true
	m.Question = []dns.Question{q}
	switch {
	case r == nil:
		m.Rcode = dns.RcodeServerFailure
	case r.Truncated: // over UDP: the client retries over TCP
		m.Rcode, m.Truncated = r.Rcode, true
	default:
		m.Rcode = r.Rcode
		m.AuthenticatedData = r.AuthenticatedData && (k.do || req.AuthenticatedData) // RFC 6840 5.8
		m.Answer, m.Ns, m.Extra = r.Answer, r.Ns, r.Extra                            // copies: the cache keeps its own
	}
	return fit(m, opt, udpLimit(req, maxUDP))
}

// exchange asks the upstreams in turn, each for at most f.timeout and all
// of them for at most twice that, and returns the first answer that is
// neither SERVFAIL nor REFUSED, without its OPT record, or nil when there
// is none. With tcp, an answer truncated over UDP is asked again over TCP
// of the same upstream.
func (f *forwarder) exchange(ctx context.Context, k cacheKey, tcp bool) *dns.Msg {
	ctx, cancel := context.WithTimeout(ctx, 2*f.timeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(k.name, k.qtype) // a random ID, RD
	q.Question[0].Qclass = k.qclass
	q.CheckingDisabled = k.cd
	q.SetEdns0(f.udpSize, k.do)
	deadline, _ := ctx.Deadline()
	for _, up := range f.upstreams {
		r, err := f.try(ctx, "udp", up, q)
		if err == nil && r.Truncated && tcp {
			r, err = f.try(ctx, "tcp", up, q)
		}
		if err == nil && (r.Rcode == dns.RcodeServerFailure || r.Rcode == dns.RcodeRefused) {
			err = fmt.Errorf("answered %s", dns.RcodeToString[r.Rcode])
		}
		if err == nil {
			return aged(r, 0)
		}
		f.stats.upstreamFailures.Add(1)
		f.log.Debug("dns: upstream resolver failed", "upstream", up, "name", k.name, "type", dns.TypeToString[k.qtype], "err", err)
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
	}
	return nil
}

// errOtherQuestion: an upstream's reply is no answer to the question asked.
var errOtherQuestion = errors.New("reply is no answer to the question")

// try asks one upstream once over network, until ctx ends at the latest.
func (f *forwarder) try(ctx context.Context, network, up string, q *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: f.timeout}
	conn, err := c.DialContext(ctx, up)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // miekg/dns heeds only the deadline
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, q, conn)
	if err != nil {
		return nil, err
	}
	want := q.Question[0]
	if !r.Response || len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, want.Name) ||
		r.Question[0].Qtype != want.Qtype || r.Question[0].Qclass != want.Qclass {
		return nil, errOtherQuestion
	}
	return r, nil
}
