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
	"golang.org/x/sync/singleflight"

	"github.com/provision/provision/internal/ratelimit"
)

// DefaultUpstreamTimeout bounds one try of one upstream resolver; a
// forwarded query gives up after twice that.
const DefaultUpstreamTimeout = 2 * time.Second

// forwarder sends the queries for names outside the zone to upstream
// resolvers, in turn, and caches their answers. Identical questions in
// flight are asked once (flight); the queries waiting for an upstream are
// bounded in all and per client (inflight), and a client's queries that
// miss the cache are rate limited (rate).
type forwarder struct {
	upstreams []string      // IP:PORT, tried in order
	udp       []*udpPool    // the sockets to each upstream
	timeout   time.Duration // one try
	udpSize   uint16        // EDNS0 buffer offered to upstreams
	cache     *cache
	flight    singleflight.Group
	inflight  *inflight
	rate      *ratelimit.Limiter
	stats     *counters
	log       *slog.Logger
}

func newForwarder(cfg Config, stats *counters, log *slog.Logger) (*forwarder, error) {
	f := &forwarder{timeout: cfg.UpstreamTimeout, udpSize: uint16(advertised(cfg.MaxUDP)), stats: stats, log: log,
		cache:    newCache(cfg.CacheSize, cfg.CacheBytes, time.Now),
		inflight: newInflight(cfg.MaxInFlight, cfg.MaxInFlightPerClient),
		rate:     ratelimit.New(cfg.RecursionRate, cfg.RecursionBurst, maxLimited)}
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
		f.udp = append(f.udp, &udpPool{addr: up.String(), timeout: f.timeout})
	}
	return f, nil
}

// open lets queries go out (Serve's start); close closes the upstream
// sockets (Serve's end).
func (f *forwarder) open() {
	for _, p := range f.udp {
		p.open()
	}
}

func (f *forwarder) close() {
	for _, p := range f.udp {
		p.close()
	}
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

// recurse answers req (forwardable) of client: from the cache at once;
// else, when the client is under its rate and the queries in flight
// under their bounds, from an upstream (forward), in a goroutine of its
// own when async (UDP: an upstream may take seconds). send gets the
// reply: REFUSED past the client's rate or its share of the queries in
// flight, SERVFAIL when all of them are taken.
func (f *forwarder) recurse(ctx context.Context, client netip.Addr, req *dns.Msg, maxUDP int, async bool, send func(*dns.Msg, []byte)) {
	k := keyFor(req, maxUDP)
	if r, hit := f.cache.get(k); hit {
		f.stats.cacheHits.Add(1)
		send(f.reply(req, maxUDP, r, 0))
		return
	}
	if !f.rate.Allow(client.String(), time.Now()) {
		f.stats.recursionLimited.Add(1)
		send(f.reply(req, maxUDP, nil, dns.RcodeRefused))
		return
	}
	release, rcode := f.inflight.take(client)
	if rcode != dns.RcodeSuccess {
		f.stats.overloaded.Add(1)
		send(f.reply(req, maxUDP, nil, rcode))
		return
	}
	run := func() {
		defer release()
		send(f.forward(ctx, req, maxUDP))
	}
	if async {
		go run()
		return
	}
	run()
}

// keyFor is the cache key of req's answer.
func keyFor(req *dns.Msg, maxUDP int) cacheKey {
	q := req.Question[0]
	opt, _ := edns(req, maxUDP)
	return cacheKey{name: canonicalName(q.Name), qtype: q.Qtype, qclass: q.Qclass, do: opt != nil && opt.Do(), cd: req.CheckingDisabled}
}

// forward answers req (forwardable) from the cache or an upstream, and
// returns the reply packed like answer's (reply). Identical questions in
// flight (the same cache key, over UDP or TCP) are asked once and all
// get its answer. maxUDP is 0 over TCP: then an answer an upstream
// truncated over UDP is asked again over TCP.
func (f *forwarder) forward(ctx context.Context, req *dns.Msg, maxUDP int) (*dns.Msg, []byte) {
	k := keyFor(req, maxUDP)
	tcp := maxUDP == 0
	led := false // this query asked, the others waited for it
	v, _, shared := f.flight.Do(fmt.Sprintf("%s/%d/%d/%t/%t/%t", k.name, k.qtype, k.qclass, k.do, k.cd, tcp), func() (any, error) {
		led = true
		if r, hit := f.cache.get(k); hit { // answered while this one waited for a slot
			f.stats.cacheHits.Add(1)
			return r, nil
		}
		f.stats.forwarded.Add(1)
		r := f.exchange(ctx, k, tcp)
		if r != nil {
			f.cache.put(k, r)
		}
		return r, nil
	})
	if shared && !led {
		f.stats.coalesced.Add(1)
	}
	r, _ := v.(*dns.Msg)
	if r != nil {
		r = aged(r, 0) // the waiters share r: each packs its own copy
	}
	return f.reply(req, maxUDP, r, dns.RcodeServerFailure)
}

// reply packs the reply to req: the client's ID, question and RD and CD
// bits, RA set, our EDNS0 record, and r's rcode and records, or when r
// is nil the rcode alone; TC with no records when it does not fit the
// client's UDP buffer.
func (f *forwarder) reply(req *dns.Msg, maxUDP int, r *dns.Msg, rcode int) (*dns.Msg, []byte) {
	opt, _ := edns(req, maxUDP)
	m := new(dns.Msg)
	m.Id, m.Response, m.Opcode = req.Id, true, req.Opcode
	m.RecursionDesired, m.CheckingDisabled, m.RecursionAvailable = req.RecursionDesired, req.CheckingDisabled, true
	m.Compress = true
	m.Question = []dns.Question{req.Question[0]}
	switch {
	case r == nil:
		m.Rcode = rcode
	case r.Truncated: // over UDP: the client retries over TCP
		m.Rcode, m.Truncated = r.Rcode, true
	default:
		m.Rcode = r.Rcode
		m.AuthenticatedData = r.AuthenticatedData && (opt != nil && opt.Do() || req.AuthenticatedData) // RFC 6840 5.8
		m.Answer, m.Ns, m.Extra = r.Answer, r.Ns, r.Extra                                              // copies: the cache keeps its own
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
	for i, up := range f.upstreams {
		r, err := f.tryUDP(ctx, f.udp[i], q)
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

// tryUDP asks one upstream once over its UDP sockets, until ctx ends at
// the latest.
func (f *forwarder) tryUDP(ctx context.Context, p *udpPool, q *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r, err := p.exchange(ctx, q)
	if err != nil {
		return nil, err
	}
	return r, checkQuestion(r, q)
}

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
	return r, checkQuestion(r, q)
}

// checkQuestion returns errOtherQuestion when r is no answer to q.
func checkQuestion(r, q *dns.Msg) error {
	want := q.Question[0]
	if !r.Response || len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, want.Name) ||
		r.Question[0].Qtype != want.Qtype || r.Question[0].Qclass != want.Qclass {
		return errOtherQuestion
	}
	return nil
}
