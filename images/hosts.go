package images

import (
	"errors"
	"net"
	"net/netip"
	"os"
)

// Host is what an iPXE script needs to know about one system.
type Host struct {
	Name    string // system name
	Profile string // profile name, for the script's comment
	Image   string // image whose kernel and initrd the script loads
	MAC     net.HardwareAddr
	Netboot bool // false: the script boots the local disk
	// Install, when set, is the build under way: the image is an
	// installer, pointed at the build's template by its kernel command line.
	Install *Install
	// Withheld, set with Install, says that the request did not come
	// from the machine itself: the script does not boot the installer
	// (whose command line carries the build's token) and says why.
	Withheld bool
	// Reason says, in the script's comment, why a host that does not
	// netboot boots its local disk ("installed", ...); "" means the
	// netboot flag is off. One word: the system's state.
	Reason string
	// Cmdline appends to b the kernel command line of the host's netboot
	// from server (the appliance's base URL, as Script has it) through mac
	// (the booting interface), with initrd=INITRD first when initrd is
	// not "" (the name the script gives the initrd). The registry makes
	// it (registry.Snapshot.AppendKernelArgs, through package bind),
	// checked: words that iPXE passes on as written, within Linux's limit.
	// Script calls it for a netboot only.
	Cmdline func(b []byte, server string, mac net.HardwareAddr, initrd string) ([]byte, error)
}

// Install is a build under way.
type Install struct {
	Kind string // kickstart.Kind*, for the script's comment
}

// Hosts is the host data the boot handler reads: the registry's current
// snapshot satisfies it. Its methods are called concurrently, once or twice
// per request, and must not block on I/O.
type Hosts interface {
	HostByIP(ip netip.Addr) (Host, bool)
	// HostByMAC finds the host of mac as asked for from client, which
	// decides whether its build is handed out (Host.Withheld).
	HostByMAC(mac net.HardwareAddr, client netip.Addr) (Host, bool)
	// ImageFiles returns an image's files: role ("kernel", "initrd",
	// "rootfs") to sha256 in lower-case hex. The handler does not change
	// the map: it may be shared.
	ImageFiles(image string) (map[string]string, bool)
}

// SnapshotHosts is Hosts that can pin one version of its data: the boot
// handler calls Snapshot once per request and answers the whole request
// from what it returns.
type SnapshotHosts interface {
	Hosts
	Snapshot() Hosts
}

// Blobs opens stored files by sha256; *Store satisfies it. Open returns
// ErrNotFound for a digest it does not hold.
type Blobs interface {
	Open(digest string) (*os.File, error)
}

// Errors carried by BootEvent.Err. From the client's request: ErrUnknownHost,
// ErrUnknownImage and ErrUnknownFile answer 404, ErrBadRequest 400. From the
// host data: a script that Script refuses (ErrBadArgs, or a netboot image
// without a kernel) and a registered blob missing from the store answer 500.
var (
	ErrUnknownHost  = errors.New("images: no system has this address")
	ErrUnknownImage = errors.New("images: no such image")
	ErrUnknownFile  = errors.New("images: the image has no such file")
	ErrBadArgs      = errors.New("images: value cannot be written into an iPXE script")
	ErrBadRequest   = errors.New("images: bad request")
	// ErrWithheld: a build's script was asked for from an address that
	// is not the machine's own; it was answered without the build.
	ErrWithheld = errors.New("images: the build is handed only to the machine's own address")
)
