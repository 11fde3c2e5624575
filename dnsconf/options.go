package dnsconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// Source is what BuildZone reads from the registry; *registry.Snapshot
// satisfies it. Its zone name and serial are fields of the Snapshot, so
// they come in through Options.
type Source interface {
	Systems() []*registry.System
	Subnets() []*registry.Subnet
	Settings() map[string]string
	EffectiveSettings(sys *registry.System) map[string]string
}

// Defaults of Options and Config.
const (
	DefaultTTL    = 60   // seconds; also the negative-caching TTL (RFC 2308)
	DefaultMaxUDP = 1232 // bytes; the DNS flag day 2020 EDNS0 buffer size
	nsLabel       = "ns"
	hostLabel     = "_host"
	profileKey    = "profile"
)

// SOA timers (RFC 1035 3.3.13). The zone is never transferred, so only
// MINIMUM, the negative-caching TTL (RFC 2308 4), matters to clients.
const (
	soaRefresh = 3600
	soaRetry   = 600
	soaExpire  = 604800
)

// Options say how to build a Zone.
type Options struct {
	Origin string // the zone, registry Snapshot.Zone (e.g. "dsas")
	Serial uint64 // registry Snapshot.Serial; the SOA carries SerialBase+Serial mod 2^32 (RFC 1982)
	// SerialBase (registry Snapshot.Epoch) starts the SOA serials of a
	// database where those of an older one cannot reach, and Instance
	// (Snapshot.Instance) is in data.cdb's ETag: a new database repeats
	// neither. Zero and "" leave the SOA serial at Serial.
	SerialBase uint32
	Instance   string
	NS         netip.Addr // the appliance's address, served as ns.ORIGIN A (or AAAA)
	TTL        uint32     // TTL of every generated record; 0 means DefaultTTL
	Static     []dns.RR   // operator records; refused ones are listed in Zone.Problems
}

// ErrOptions is wrapped by the errors BuildZone returns for bad Options.
var ErrOptions = errors.New("dnsconf: bad options")

// origin checks Options and returns the origin as a lowercase FQDN.
func (o Options) origin() (string, error) {
	origin := dns.Fqdn(strings.ToLower(strings.TrimSpace(o.Origin)))
	if _, ok := dns.IsDomainName(origin); !ok || origin == "." {
		return "", fmt.Errorf("%w: origin %q is not a domain name", ErrOptions, o.Origin)
	}
	if !o.NS.IsValid() || o.NS.IsUnspecified() {
		return "", fmt.Errorf("%w: the appliance's address (NS) is required", ErrOptions)
	}
	return origin, nil
}

func (o Options) ttl() uint32 {
	if o.TTL == 0 {
		return DefaultTTL
	}
	return o.TTL
}
