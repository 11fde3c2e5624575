// Package bind adapts the registry's Snapshot to the narrow interfaces
// the protocol packages declare (images.Hosts, tftp.Hosts, ...). Every
// call reads the current Snapshot: one atomic load, then map lookups.
package bind

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/tftp"
)

// Registry gives the current Snapshot; *registry.Registry satisfies it.
type Registry interface {
	Snapshot() *registry.Snapshot
}

// Boot serves the HTTP boot and TFTP servers.
type Boot struct {
	Reg Registry
	// BaseURL is the appliance's HTTP URL as the machines reach it, for
	// the kernel and initrd URLs of generated pxelinux/GRUB configs.
	BaseURL string
	// Seen is where DHCP saw the machines (proxyDHCP): with their
	// registered IPs, it says which client is the machine itself, the
	// only one a build (its token) is handed to. nil: registered IPs only.
	Seen *Seen
	last *atomic.Pointer[bootView] // the view of the latest snapshot seen; nil: none kept
}

// NewBoot returns a Boot that keeps, for the latest snapshot, the hosts
// and image files its requests looked up, so that the next requests of
// that snapshot find them made: a machine that boots asks for its script,
// kernel and initrd, and all machines of a profile for the same files.
func NewBoot(reg Registry, baseURL string) Boot {
	return Boot{Reg: reg, BaseURL: baseURL, last: new(atomic.Pointer[bootView])}
}

var (
	_ images.Hosts = Boot{}
	_ tftp.Hosts   = Boot{}
)

// imageHost is sys as the iPXE script of its boot at now sees it: the
// registry's BootPlan, and its kernel command line (KernelArgs) for the
// server and MAC of the request.
func imageHost(snap *registry.Snapshot, sys *registry.System, now time.Time) images.Host {
	plan := snap.BootPlan(sys, now)
	h := images.Host{Name: sys.Name, Profile: sys.Profile, Netboot: plan.Netboot, Reason: plan.Reason}
	if plan.Image != nil {
		h.Image = plan.Image.Name
	}
	if plan.Install != nil {
		h.Install = &images.Install{Kind: plan.Install.Kind}
	}
	h.Cmdline = cmdlineOf(snap, sys, plan)
	if len(sys.MACs) > 0 {
		h.MAC, _ = net.ParseMAC(sys.MACs[0])
	}
	return h
}

// cmdlineOf is images.Host.Cmdline of sys: the registry's AppendKernelArgs,
// remembered for the server, MAC and initrd name of the last request (a
// Host is kept for its snapshot, and the scripts of one host are asked
// for from the same server).
func cmdlineOf(snap *registry.Snapshot, sys *registry.System, plan registry.BootPlan) func([]byte, string, net.HardwareAddr, string) ([]byte, error) {
	type made struct {
		server, mac, initrd string
		line                []byte
	}
	var last atomic.Pointer[made]
	return func(b []byte, server string, mac net.HardwareAddr, initrd string) ([]byte, error) {
		if m := last.Load(); m != nil && m.server == server && m.mac == string(mac) && m.initrd == initrd {
			return append(b, m.line...), nil
		}
		start := len(b)
		b, err := snap.AppendKernelArgs(b, sys, plan, registry.BootVia{Server: server, MAC: mac, Initrd: initrd})
		if err == nil {
			last.Store(&made{server, string(mac), initrd, bytes.Clone(b[start:])})
		}
		return b, err
	}
}

var _ images.SnapshotHosts = Boot{}

// Snapshot implements images.SnapshotHosts: one snapshot for a request.
func (b Boot) Snapshot() images.Hosts { return b.view() }

// HostByIP implements images.Hosts, on the current snapshot.
func (b Boot) HostByIP(ip netip.Addr) (images.Host, bool) { return b.view().HostByIP(ip) }

// HostByMAC implements images.Hosts, on the current snapshot.
func (b Boot) HostByMAC(mac net.HardwareAddr, client netip.Addr) (images.Host, bool) {
	return b.view().HostByMAC(mac, client)
}

// ImageFiles implements images.Hosts, on the current snapshot.
func (b Boot) ImageFiles(image string) (map[string]string, bool) { return b.view().ImageFiles(image) }

func (b Boot) view() *bootView {
	snap := b.Reg.Snapshot()
	if b.last == nil {
		return &bootView{snap: snap, seen: b.Seen}
	}
	if v := b.last.Load(); v != nil && v.snap == snap {
		return v
	}
	v := &bootView{snap: snap, seen: b.Seen, hosts: map[*registry.System]images.Host{}, files: map[string]map[string]string{}}
	b.last.Store(v)
	return v
}

// bootView is images.Hosts on one snapshot, with what its lookups made
// (when the maps are not nil): the Host of each system whose Host does
// not change with time (one not building: a build's deadline changes its
// script), and the files of each image. The maps handed out are shared:
// the boot handler only reads them.
type bootView struct {
	snap  *registry.Snapshot
	seen  *Seen
	mu    sync.RWMutex
	hosts map[*registry.System]images.Host
	files map[string]map[string]string
}

func (v *bootView) HostByIP(ip netip.Addr) (images.Host, bool) {
	sys, ok := v.snap.SystemByIP(ip)
	if !ok {
		return discoveryHost(v.snap, ip, nil)
	}
	return v.host(sys), true
}

// HostByMAC is the host of mac as client asks for it: a build under way
// is withheld from any client but the machine itself (Seen.FromItself).
// By IP, the client is the machine by definition.
func (v *bootView) HostByMAC(mac net.HardwareAddr, client netip.Addr) (images.Host, bool) {
	sys, ok := v.snap.SystemByMAC(mac)
	if !ok {
		return discoveryHost(v.snap, client, mac)
	}
	h := v.host(sys)
	h.MAC = mac
	if h.Install != nil && !v.seen.FromItself(sys, client) {
		h = images.Host{Name: h.Name, Profile: h.Profile, MAC: mac, Withheld: true}
	}
	return h, true
}

func (v *bootView) host(sys *registry.System) images.Host {
	if v.hosts == nil || sys.Building() {
		return imageHost(v.snap, sys, time.Now())
	}
	v.mu.RLock()
	h, ok := v.hosts[sys]
	v.mu.RUnlock()
	if ok {
		return h
	}
	h = imageHost(v.snap, sys, time.Now())
	v.mu.Lock()
	v.hosts[sys] = h
	v.mu.Unlock()
	return h
}

func (v *bootView) ImageFiles(image string) (map[string]string, bool) {
	if v.files != nil {
		v.mu.RLock()
		out, ok := v.files[image]
		v.mu.RUnlock()
		if ok {
			return out, true
		}
	}
	img, ok := v.snap.Image(image)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(img.Files))
	for role, f := range img.Files {
		out[role] = f.SHA256
	}
	if v.files != nil {
		v.mu.Lock()
		v.files[image] = out
		v.mu.Unlock()
	}
	return out, true
}

// BootConfigByMAC implements tftp.Hosts: the kernel and initrd are
// fetched over HTTP from the appliance, and the kernel command line is
// the registry's (KernelArgs), as the iPXE script's but for its initrd=.
// A build under way is withheld from any client but the machine itself
// (Seen.FromItself): its command line carries the build's token.
func (b Boot) BootConfigByMAC(mac net.HardwareAddr, client netip.Addr) (tftp.BootConfig, bool) {
	snap := b.Reg.Snapshot()
	sys, ok := snap.SystemByMAC(mac)
	if !ok {
		return tftp.BootConfig{}, false
	}
	plan := snap.BootPlan(sys, time.Now())
	c := tftp.BootConfig{Name: sys.Name, Netboot: plan.Netboot}
	if plan.Install != nil && !b.Seen.FromItself(sys, client) {
		c.Netboot, c.Withheld = false, true
	}
	if !c.Netboot {
		return c, true
	}
	if plan.Image == nil { // the registry keeps a profile's image: never
		c.Err = fmt.Errorf("system %s: no image to boot", sys.Name)
		return c, true
	}
	base := strings.TrimSuffix(b.BaseURL, "/")
	c.Kernel = base + "/images/" + plan.Image.Name + "/kernel"
	c.Initrd = base + "/images/" + plan.Image.Name + "/initrd"
	c.Args, c.Err = snap.KernelArgs(sys, plan, registry.BootVia{Server: base, MAC: mac})
	return c, true
}

// DiscoveryPrefix starts the Host name of an unknown machine's boot into
// the inventory agent: "discovery:" and its MAC's hex digits (or its
// address), never a system's name (which has no colon).
const DiscoveryPrefix = "discovery:"

// discoveryHost is the boot of an unknown machine at ip (mac, when the
// request named it) into the inventory agent: when ip is on a subnet
// with discovery on and there is an image to boot the agent with
// (Snapshot.DiscoveryImage). ok is false otherwise: the request is
// answered as any unknown machine's.
func discoveryHost(snap *registry.Snapshot, ip netip.Addr, mac net.HardwareAddr) (images.Host, bool) {
	sub, ok := snap.SubnetFor(ip)
	if !ok || !sub.Discovery {
		return images.Host{}, false
	}
	img, ok := snap.DiscoveryImage()
	if !ok {
		return images.Host{}, false
	}
	who := ip.String()
	if mac != nil {
		who = strings.ReplaceAll(mac.String(), ":", "")
	}
	return images.Host{Name: DiscoveryPrefix + who, Profile: "discovery", Image: img.Name, MAC: mac, Netboot: true,
		Cmdline: func(b []byte, server string, mac net.HardwareAddr, initrd string) ([]byte, error) {
			return snap.AppendDiscoveryArgs(b, registry.BootVia{Server: server, MAC: mac, Initrd: initrd})
		}}, true
}
