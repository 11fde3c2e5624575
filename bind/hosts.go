// Package bind adapts the registry's Snapshot to the narrow interfaces
// the protocol packages declare (images.Hosts, tftp.Hosts, ...). Every
// call reads the current Snapshot: one atomic load, then map lookups.
package bind

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/provision/provision/images"
	"github.com/provision/provision/kickstart"
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
	last    *atomic.Pointer[bootView] // the view of the latest snapshot seen; nil: none kept
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

// KernelArgs joins the profile's and the system's kernel arguments.
func KernelArgs(snap *registry.Snapshot, sys *registry.System) string {
	var parts []string
	if p, ok := snap.Profile(sys.Profile); ok && p.KernelArgs != "" {
		parts = append(parts, p.KernelArgs)
	}
	if sys.KernelArgs != "" {
		parts = append(parts, sys.KernelArgs)
	}
	return strings.Join(parts, " ")
}

// Plan decides what a network boot of sys does, from its netboot flag and
// its state: a build under way boots the installer pointed at its template
// (install is set), a diskless system boots its image, and everything else
// (installed, failed, or netboot off) boots its local disk, with reason
// its state.
func Plan(snap *registry.Snapshot, sys *registry.System, now time.Time) (netboot bool, install *images.Install, reason string) {
	switch {
	case !sys.Netboot:
		return false, nil, ""
	case sys.Status == registry.StateDiskless:
		return true, nil, ""
	case sys.Building():
		if _, ok := snap.BuildByToken(string(sys.BuildToken), now); !ok {
			return false, nil, "past-its-build-deadline"
		}
		p, _ := snap.Profile(sys.Profile)
		t, ok := snap.Templates().Lookup(p.Kickstart)
		if !ok {
			return false, nil, "without-a-template"
		}
		return true, &images.Install{Kind: t.Kind, Token: string(sys.BuildToken)}, ""
	}
	return false, nil, sys.Status
}

func imageHost(snap *registry.Snapshot, sys *registry.System) images.Host {
	h := images.Host{Name: sys.Name, Profile: sys.Profile,
		KernelArgs: KernelArgs(snap, sys), Zone: snap.Zone}
	h.Netboot, h.Install, h.Reason = Plan(snap, sys, time.Now())
	if p, ok := snap.Profile(sys.Profile); ok {
		h.Image = p.Image
		if img, ok := snap.Image(p.Image); ok && img.Kind == registry.KindDiskless {
			if f, ok := img.Files["rootfs"]; ok {
				h.Rootfs = &images.Rootfs{SHA256: f.SHA256, Size: f.Size, Unpacked: img.Unpacked}
			}
		}
	}
	if len(sys.MACs) > 0 {
		h.MAC, _ = net.ParseMAC(sys.MACs[0])
	}
	return h
}

var _ images.SnapshotHosts = Boot{}

// Snapshot implements images.SnapshotHosts: one snapshot for a request.
func (b Boot) Snapshot() images.Hosts { return b.view() }

// HostByIP implements images.Hosts, on the current snapshot.
func (b Boot) HostByIP(ip netip.Addr) (images.Host, bool) { return b.view().HostByIP(ip) }

// HostByMAC implements images.Hosts, on the current snapshot.
func (b Boot) HostByMAC(mac net.HardwareAddr) (images.Host, bool) { return b.view().HostByMAC(mac) }

// ImageFiles implements images.Hosts, on the current snapshot.
func (b Boot) ImageFiles(image string) (map[string]string, bool) { return b.view().ImageFiles(image) }

func (b Boot) view() *bootView {
	snap := b.Reg.Snapshot()
	if b.last == nil {
		return &bootView{snap: snap}
	}
	if v := b.last.Load(); v != nil && v.snap == snap {
		return v
	}
	v := &bootView{snap: snap, hosts: map[*registry.System]images.Host{}, files: map[string]map[string]string{}}
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
	mu    sync.RWMutex
	hosts map[*registry.System]images.Host
	files map[string]map[string]string
}

func (v *bootView) HostByIP(ip netip.Addr) (images.Host, bool) {
	sys, ok := v.snap.SystemByIP(ip)
	if !ok {
		return images.Host{}, false
	}
	return v.host(sys), true
}

func (v *bootView) HostByMAC(mac net.HardwareAddr) (images.Host, bool) {
	sys, ok := v.snap.SystemByMAC(mac)
	if !ok {
		return images.Host{}, false
	}
	h := v.host(sys)
	h.MAC = mac
	return h, true
}

func (v *bootView) host(sys *registry.System) images.Host {
	if v.hosts == nil || sys.Building() {
		return imageHost(v.snap, sys)
	}
	v.mu.RLock()
	h, ok := v.hosts[sys]
	v.mu.RUnlock()
	if ok {
		return h
	}
	h = imageHost(v.snap, sys)
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
// fetched over HTTP from the appliance.
func (b Boot) BootConfigByMAC(mac net.HardwareAddr) (tftp.BootConfig, bool) {
	snap := b.Reg.Snapshot()
	sys, ok := snap.SystemByMAC(mac)
	if !ok {
		return tftp.BootConfig{}, false
	}
	h := imageHost(snap, sys)
	base := strings.TrimSuffix(b.BaseURL, "/")
	args := h.KernelArgs
	if h.Install != nil {
		args += " " + strings.Join(kickstart.BootArgs(h.Install.Kind, base+"/ks/"+h.Install.Token), " ")
	}
	args = strings.TrimSpace(args + " provision.host=" + sys.Name + " provision.zone=" + snap.Zone + " provision.server=" + base)
	return tftp.BootConfig{
		Name:    sys.Name,
		Netboot: h.Netboot,
		Kernel:  base + "/images/" + h.Image + "/kernel",
		Initrd:  base + "/images/" + h.Image + "/initrd",
		Args:    args,
	}, true
}
