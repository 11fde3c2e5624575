package dnsconf

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Limits of the cache of forwarded answers.
const (
	DefaultCacheSize  = 10000    // answers kept
	DefaultCacheBytes = 32 << 20 // their packed size, at most
	maxPositiveTTL    = 3600     // seconds an answer is kept, at most
	maxNegativeTTL    = 300      // seconds an NXDOMAIN or NODATA is kept, at most
	evictSample       = 8        // entries looked at to make room
)

// cache keeps the answers of upstream resolvers for their TTL, at most
// max of them and maxBytes of their packed size (a TCP answer can be
// 64 KiB).
type cache struct {
	max, maxBytes int
	now           func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	bytes   int // the size of the entries
}

// cacheKey is what an answer depends on besides the name's case.
type cacheKey struct {
	name          string // lowercase FQDN
	qtype, qclass uint16
	do, cd        bool // DNSSEC OK (RFC 3225) and checking disabled (RFC 4035)
}

type cacheEntry struct {
	msg     *dns.Msg // rcode, AD and the records as received, without OPT; never modified
	size    int      // what it counts in cache.bytes
	stored  time.Time
	expires time.Time
}

// newCache returns a cache of at most size answers (0: DefaultCacheSize;
// negative: none) and bytes bytes (0: DefaultCacheBytes).
func newCache(size, bytes int, now func() time.Time) *cache {
	if size == 0 {
		size = DefaultCacheSize
	}
	if bytes <= 0 {
		bytes = DefaultCacheBytes
	}
	return &cache{max: size, maxBytes: bytes, now: now, entries: map[cacheKey]cacheEntry{}}
}

// get returns a copy of the answer kept for k with its TTLs decremented
// by the whole seconds it has been kept.
func (c *cache) get(k cacheKey) (*dns.Msg, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.expires) {
		c.drop(k)
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
// client keeps a record longer than this cache does. An answer larger
// than an eighth of the cache's bytes is not kept. When the cache is full
// (answers or bytes) it makes room first: it looks at a few entries (the
// order of a map is random), drops the expired ones, and if none was, the
// first it looked at; and again until the answer fits.
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
	e.size = e.msg.Len() + len(k.name) + entryOverhead
	if e.size > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(k)
	for len(c.entries) > 0 && (len(c.entries) >= c.max || c.bytes+e.size > c.maxBytes) {
		c.evict(now)
	}
	c.entries[k] = e
	c.bytes += e.size
}

// entryOverhead is what an entry costs besides its packed answer and
// name: the map slot, the message and record structs (a rough count).
const entryOverhead = 256

// evict drops the expired entries among a few, or the first of them.
func (c *cache) evict(now time.Time) {
	var first cacheKey
	n, dropped := 0, false
	for k, old := range c.entries {
		if n == 0 {
			first = k
		}
		if !now.Before(old.expires) {
			c.drop(k)
			dropped = true
		}
		if n++; n == evictSample {
			break
		}
	}
	if !dropped {
		c.drop(first)
	}
}

// drop forgets k's entry, if any (c.mu held).
func (c *cache) drop(k cacheKey) {
	if e, ok := c.entries[k]; ok {
		c.bytes -= e.size
		delete(c.entries, k)
	}
}

// len returns the number of answers kept, expired ones included, and
// their size in bytes.
func (c *cache) len() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
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
