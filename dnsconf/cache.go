package dnsconf

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Limits of the cache of forwarded answers.
const (
	DefaultCacheSize = 10000 // answers kept
	maxPositiveTTL   = 3600  // seconds an answer is kept, at most
	maxNegativeTTL   = 300   // seconds an NXDOMAIN or NODATA is kept, at most
	evictSample      = 8     // entries looked at to make room
)

// cache keeps the answers of upstream resolvers for their TTL.
type cache struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

// cacheKey is what an answer depends on besides the name's case.
type cacheKey struct {
	name          string // lowercase FQDN
	qtype, qclass uint16
	do, cd        bool // DNSSEC OK (RFC 3225) and checking disabled (RFC 4035)
}

type cacheEntry struct {
	msg     *dns.Msg // rcode, AD and the records as received, without OPT; never modified
	stored  time.Time
	expires time.Time
}

// newCache returns a cache of at most size answers (0: DefaultCacheSize;
// negative: none).
func newCache(size int, now func() time.Time) *cache {
	if size == 0 {
		size = DefaultCacheSize
	}
	return &cache{max: size, now: now, entries: map[cacheKey]cacheEntry{}}
}

// get returns a copy of the answer kept for k with its TTLs decremented
// by the whole seconds it has been kept.
func (c *cache) get(k cacheKey) (*dns.Msg, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.expires) {
		delete(c.entries, k)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return aged(e.msg, uint32(now.Sub(e.stored)/time.Second)), true
}

// put keeps a copy of r for k, if it may be cached (cacheTTL), and then
// lowers the TTLs of r's records to the time it is kept, so that no
// client keeps a record longer than this cache does. When the cache is
// full it makes room first: it looks at a few entries (the order of a
// map is random), drops the expired ones, and if none was, the first it
// looked at.
func (c *cache) put(k cacheKey, r *dns.Msg) {
	ttl, ok := cacheTTL(r)
	if !ok || c.max <= 0 {
		return
	}
	for _, rrs := range [][]dns.RR{r.Answer, r.Ns, r.Extra} {
		for _, rr := range rrs {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT {
				h.Ttl = min(h.Ttl, ttl)
			}
		}
	}
	now := c.now()
	e := cacheEntry{msg: aged(r, 0), stored: now, expires: now.Add(time.Duration(ttl) * time.Second)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		var first cacheKey
		n, dropped := 0, false
		for k, old := range c.entries {
			if n == 0 {
				first = k
			}
			if !now.Before(old.expires) {
				delete(c.entries, k)
				dropped = true
			}
			if n++; n == evictSample {
				break
			}
		}
		if !dropped {
			delete(c.entries, first)
		}
	}
	c.entries[k] = e
}

// len returns the number of answers kept, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// cacheTTL says how many seconds r may be kept: the smallest TTL of its
// answer records, at most maxPositiveTTL; for NXDOMAIN and NODATA also at
// most the negative TTL of the SOA in the authority section (the smaller
// of its TTL and MINIMUM, RFC 2308 5), and at most maxNegativeTTL. Other
// rcodes (SERVFAIL above all), truncated answers, negative answers
// without an SOA and a TTL of 0 are not cached.
func cacheTTL(r *dns.Msg) (uint32, bool) {
	if r.Truncated || r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return 0, false
	}
	ttl := uint32(maxPositiveTTL)
	if r.Rcode == dns.RcodeNameError || len(r.Answer) == 0 {
		var soa *dns.SOA
		for _, rr := range r.Ns {
			if s, ok := rr.(*dns.SOA); ok {
				soa = s
				break
			}
		}
		if soa == nil {
			return 0, false
		}
		ttl = min(maxNegativeTTL, soa.Hdr.Ttl, soa.Minttl)
	}
	for _, rr := range r.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	return ttl, ttl > 0
}

// aged returns a copy of r's rcode, TC and AD bits and records, without
// OPT, with age seconds taken off every TTL (down to 0).
func aged(r *dns.Msg, age uint32) *dns.Msg {
	m := new(dns.Msg)
	m.Rcode, m.Truncated, m.AuthenticatedData = r.Rcode, r.Truncated, r.AuthenticatedData
	m.Answer, m.Ns, m.Extra = agedRRs(r.Answer, age), agedRRs(r.Ns, age), agedRRs(r.Extra, age)
	return m
}

func agedRRs(rrs []dns.RR, age uint32) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		rr = dns.Copy(rr)
		h := rr.Header()
		h.Ttl -= min(h.Ttl, age)
		out = append(out, rr)
	}
	return out
}
