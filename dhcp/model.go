package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Loader names accepted in Host.Loader.
const (
	LoaderIPXE     = "ipxe"     // default: undionly.kpxe / ipxe.efi, then boot.ipxe
	LoaderPXELinux = "pxelinux" // lpxelinux.0 (BIOS), syslinux.efi (UEFI PXE)
	LoaderGRUB     = "grub"     // grubx64.efi, or shimx64.efi with SecureBoot (UEFI); iPXE on BIOS
)

// Subnet is a network the appliance serves, directly or through a relay.
type Subnet struct {
	Name       string
	Prefix     netip.Prefix
	Gateway    netip.Addr    // option 3; omitted when invalid
	DNS        []netip.Addr  // option 6; the server's own address when empty
	Domain     string        // option 15, the zone
	PoolStart  netip.Addr    // dynamic pool, inclusive; no pool when invalid
	PoolEnd    netip.Addr    // inclusive
	NextServer netip.Addr    // siaddr and option 66; the server's address when invalid
	LeaseTime  time.Duration // option 51; Config.LeaseTime when zero
}

// HasPool reports whether s has a usable dynamic pool.
func (s Subnet) HasPool() bool {
	return s.PoolStart.Is4() && s.PoolEnd.Is4() &&
		s.Prefix.Contains(s.PoolStart) && s.Prefix.Contains(s.PoolEnd) &&
		s.PoolStart.Compare(s.PoolEnd) <= 0
}

// Host is a registered machine with a reserved address.
type Host struct {
	Name     string // registry name, reported in boot events
	Hostname string // option 12; Name when empty
	MAC      net.HardwareAddr
	IP       netip.Addr
	Subnet   Subnet // the subnet holding IP
	// Netboot false still gets an address and a boot file: the host's
	// iPXE script (served over HTTP) then boots the local disk.
	Netboot bool
	Loader  string // LoaderIPXE (default, also when empty), LoaderPXELinux or LoaderGRUB
	// SecureBoot, with LoaderGRUB, starts UEFI machines at shim, which
	// loads the signed GRUB from the same place.
	SecureBoot bool
}

// Hosts is the read side of the registry snapshot. Both methods are called
// once or twice per packet and must answer from memory.
type Hosts interface {
	HostByMAC(mac net.HardwareAddr) (Host, bool)
	// SubnetFor returns the subnet containing ip: a relay's giaddr, a
	// client's ciaddr, or the server's own interface address.
	SubnetFor(ip netip.Addr) (Subnet, bool)
}

// SnapshotHosts is Hosts that can pin one version of its data: the Server
// calls Snapshot once per packet and answers the whole packet from what
// it returns, so that a registry change between two lookups cannot mix
// two versions in one reply.
type SnapshotHosts interface {
	Hosts
	Snapshot() Hosts
}

// Leases is the dynamic pool. Implementations answer from memory and persist
// asynchronously; MemoryLeases is one.
type Leases interface {
	// Offer picks an address in s's pool for mac: the one it already
	// holds if any, else a free unreserved one, held briefly.
	Offer(mac net.HardwareAddr, s Subnet, now time.Time) (netip.Addr, error)
	// Ack binds ip to mac until until, or fails with ErrConflict.
	Ack(mac net.HardwareAddr, ip netip.Addr, s Subnet, now, until time.Time) error
	// Release frees ip if mac holds it (DHCPRELEASE).
	Release(mac net.HardwareAddr, ip netip.Addr)
	// Forget frees ip if it is only offered to mac: the client chose
	// another server's offer. A binding stays, whoever made it.
	Forget(mac net.HardwareAddr, ip netip.Addr)
	// Decline quarantines ip, which mac found in use (DHCPDECLINE).
	Decline(mac net.HardwareAddr, ip netip.Addr, now time.Time)
}

// Config is the server's configuration. Reply reads ServerIP, HTTPBase,
// LeaseTime, Proxy, ProxyAll and ARM64; the rest is for Server.
type Config struct {
	ServerIP  netip.Addr    // option 54; the address of the serving interface
	HTTPBase  string        // e.g. http://10.0.0.1; "http://"+ServerIP when empty
	LeaseTime time.Duration // default lease when Subnet.LeaseTime is zero; DefaultLeaseTime when zero
	// Proxy makes the server a proxyDHCP: another DHCP server hands out
	// the addresses, this one answers netboot clients with boot
	// information only (see proxy), on ports 67 and ProxyPort.
	Proxy    bool
	ProxyAll bool // with Proxy, answer unknown MACs too (the default loader)
	// ARM64 is the boot file of ARM64 UEFI clients (FileARM64 when the
	// boot files have it); "" means none, and such clients get an address
	// only.
	ARM64 string

	RateLimit  float64          // packets per second per MAC; DefaultRateLimit when zero
	RateBurst  int              // bucket size per MAC; DefaultRateBurst when zero
	Workers    int              // goroutines reading the socket; 2 when zero
	ClientPort int              // 68 when zero (tests override it)
	RelayPort  int              // 67 when zero (tests override it)
	Now        func() time.Time // time.Now when nil
}

// Defaults used when the Config leaves a field zero.
const (
	DefaultLeaseTime = time.Hour
	DefaultRateLimit = 10 // packets per second per MAC
	DefaultRateBurst = 20
)

// BootEvent reports a DHCPACK: the moment a machine got its address.
type BootEvent struct {
	Time     time.Time
	MAC      net.HardwareAddr
	IP       netip.Addr // yiaddr, or ciaddr for a DHCPINFORM
	Host     string     // Host.Name; empty for a pool client
	BootFile string     // option 67 as sent; empty when none
	Proxy    bool       // a proxyDHCP answer: boot information, no address
}

// Sighting is, in proxyDHCP mode, a registered MAC's DHCPREQUEST for the
// address that the other server hands out: the address the machine will
// speak from, which its registered IP may not be.
type Sighting struct {
	Time time.Time
	MAC  net.HardwareAddr
	IP   netip.Addr // the requested address (option 50), or ciaddr
}

// Sightings is what Events may also implement to hear of Sightings.
type Sightings interface {
	Sighted(Sighting)
}

// Discovery reports an unknown MAC that was acknowledged a pool lease, so
// the registry can offer to promote it to a host.
type Discovery struct {
	Time        time.Time
	MAC         net.HardwareAddr
	IP          netip.Addr
	Subnet      string
	Hostname    string // option 12 as sent by the client
	VendorClass string // option 60 as sent by the client
	Arch        int    // first value of option 93; -1 when absent
}

// Events receives reports. Server calls it from one goroutine, fed by a
// bounded channel: a slow consumer loses events, never delays replies.
type Events interface {
	Booted(BootEvent)
	Discovered(Discovery)
}

// Errors returned by Reply (nil reply) and by Leases.
var (
	ErrMalformed     = errors.New("dhcp: malformed request")
	ErrUnknownMAC    = errors.New("dhcp: unknown mac")
	ErrWrongSubnet   = errors.New("dhcp: host is not on this subnet")
	ErrNoPool        = errors.New("dhcp: subnet has no dynamic pool")
	ErrPoolExhausted = errors.New("dhcp: pool exhausted")
	ErrConflict      = errors.New("dhcp: address not available to this client")
	// ErrNAK comes with a DHCPNAK: it wraps the reason, which the NAK
	// itself does not carry.
	ErrNAK      = errors.New("dhcp: NAK")
	ErrDeclined = errors.New("dhcp: client declined its address")
)
