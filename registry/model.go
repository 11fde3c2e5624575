package registry

import (
	"fmt"
	"maps"
)

// Image kinds.
const (
	KindInstall  = "install"  // installer kernel + initrd
	KindDiskless = "diskless" // kernel + initrd + root filesystem archive
	// KindDisk is deployed to a disk and boots from it: a rootfs with its
	// own kernel and GRUB, and the kernel package whose kernel and initrd
	// (built by the appliance) run the deployer.
	KindDisk = "disk"
)

// Lifecycle states of a system (see lifecycle.go for the transitions).
const (
	StatePending    = "pending"    // a build is requested: the next network boot runs the installer
	StateInstalling = "installing" // the installer fetched its template
	StateInstalled  = "installed"  // the build finished: the machine boots from its disk
	StateFailed     = "failed"     // the installer reported failure, or the deadline passed
	StateDiskless   = "diskless"   // no template: every network boot boots the profile's image
)

// Statuses lists the lifecycle states.
var Statuses = []string{StatePending, StateInstalling, StateInstalled, StateFailed, StateDiskless}

// Subnet is an IPv4 network the appliance serves. Addresses are kept in
// their canonical text form.
type Subnet struct {
	Name       string   `json:"name" yaml:"name"`
	CIDR       string   `json:"cidr" yaml:"cidr"`
	Gateway    string   `json:"gateway,omitempty" yaml:"gateway,omitempty"`
	DNSServers []string `json:"dns_servers,omitempty" yaml:"dns_servers,omitempty"`
	Pool       string   `json:"pool,omitempty" yaml:"pool,omitempty"` // "FIRST-LAST", dynamic range
	NextServer string   `json:"next_server,omitempty" yaml:"next_server,omitempty"`
	// Site names the appliances that serve DHCP on the subnet (those
	// started with --site SITE); empty, every appliance does.
	Site string `json:"site,omitempty" yaml:"site,omitempty"`
	// Discovery boots an unknown machine that network-boots on the subnet
	// into the inventory agent; EnrolBMC has the agent enrol its BMC.
	Discovery bool `json:"discovery,omitempty" yaml:"discovery,omitempty"`
	EnrolBMC  bool `json:"enrol_bmc,omitempty" yaml:"enrol_bmc,omitempty"`
}

// File is one file of an image, stored in the image store by its sha256.
type File struct {
	SHA256 string `json:"sha256" yaml:"sha256"`
	Size   int64  `json:"size" yaml:"size"`
}

// Image is a bootable set of files: "kernel", "initrd" and, for diskless
// images, "rootfs" and the optional "kernel-package" (the Debian
// linux-image .deb the appliance builds kernel and initrd from).
type Image struct {
	Name  string          `json:"name" yaml:"name"`
	Kind  string          `json:"kind" yaml:"kind"`
	Files map[string]File `json:"files" yaml:"files"`
	// Unpacked is how many bytes of tmpfs a diskless image's rootfs takes
	// unpacked: its boot environment sizes the tmpfs from it.
	Unpacked int64 `json:"unpacked_size,omitempty" yaml:"unpacked_size,omitempty"`
	// Bootenv says how the appliance built the initrd of a diskless image
	// from its kernel-package file (the kernel version and the modules it
	// carries); empty when the initrd was uploaded.
	Bootenv string `json:"bootenv,omitempty" yaml:"bootenv,omitempty"`
	// Disk says how a disk image's rootfs boots from a disk (see DiskBoot).
	Disk *DiskBoot `json:"disk,omitempty" yaml:"disk,omitempty"`
}

// Profile is a role: an image, kernel arguments, a kickstart template and
// settings shared by its systems.
type Profile struct {
	Name       string `json:"name" yaml:"name"`
	Image      string `json:"image" yaml:"image"`
	KernelArgs string `json:"kernel_args,omitempty" yaml:"kernel_args,omitempty"`
	Kickstart  string `json:"kickstart,omitempty" yaml:"kickstart,omitempty"`
	Loader     string `json:"loader,omitempty" yaml:"loader,omitempty"` // ipxe (default), pxelinux or grub
	// SecureBoot, with loader grub, boots UEFI machines through Debian's
	// signed chain: shim (signed by Microsoft), then GRUB (signed by
	// Debian), which boots the signed kernel.
	SecureBoot bool              `json:"secure_boot,omitempty" yaml:"secure_boot,omitempty"`
	Settings   map[string]string `json:"settings,omitempty" yaml:"settings,omitempty"`
	// SecretSettings are never published (see SecretSettings): their JSON
	// names the keys only.
	SecretSettings SecretSettings `json:"secret_settings,omitempty" yaml:"secret_settings,omitempty"`
	// InstallTimeout bounds a build of this profile's template (a Go
	// duration, default DefaultInstallTimeout): its deadline.
	InstallTimeout string `json:"install_timeout,omitempty" yaml:"install_timeout,omitempty"`
	// OnFailure says what a failed build (or one past its deadline) does
	// to a machine with a BMC: "off" (the default: power it off) or
	// "keep" (leave it as it is, to look at).
	OnFailure string `json:"on_failure,omitempty" yaml:"on_failure,omitempty"`
	// Storage is the disk layout a disk image is deployed with (see
	// Storage); nil is the default layout. Only for a disk image.
	Storage *Storage `json:"storage,omitempty" yaml:"storage,omitempty"`
}

// System is one machine.
type System struct {
	// ID is the system's identity: made when it is added, kept through
	// edits and renames, new for a new system of an old name. Boot events
	// are kept by it.
	ID         string            `json:"id,omitempty" yaml:"id,omitempty"`
	Name       string            `json:"name" yaml:"name"`
	Hostname   string            `json:"hostname" yaml:"hostname"`
	MACs       []string          `json:"macs" yaml:"macs"`
	IP         string            `json:"ip" yaml:"ip"`
	Profile    string            `json:"profile" yaml:"profile"`
	Netboot    bool              `json:"netboot" yaml:"netboot"`
	KernelArgs string            `json:"kernel_args,omitempty" yaml:"kernel_args,omitempty"`
	Settings   map[string]string `json:"settings,omitempty" yaml:"settings,omitempty"`
	// SecretSettings are never published (see SecretSettings): their JSON
	// names the keys only.
	SecretSettings SecretSettings `json:"secret_settings,omitempty" yaml:"secret_settings,omitempty"`
	BMC            *BMC           `json:"bmc,omitempty" yaml:"bmc,omitempty"`
	// Interfaces are the system's network interfaces (see Ifaces): none
	// stored means one physical interface per MAC, eth0 carrying the IP.
	// With interfaces, MACs are their physical interfaces' MACs, in order.
	Interfaces []Interface `json:"interfaces,omitempty" yaml:"interfaces,omitempty"`
	// Status is the lifecycle state (StatePending...), decided by the
	// server: a client's value is ignored but on import.
	Status      string `json:"status" yaml:"status"`
	StatusSince string `json:"status_since,omitempty" yaml:"status_since,omitempty"` // RFC 3339, UTC
	// Deadline ends the current build (pending or installing), RFC 3339.
	Deadline string `json:"deadline,omitempty" yaml:"deadline,omitempty"`
	// BuildToken authenticates the current build's installer: it is in
	// the installer's kernel arguments and its template URLs, and nowhere
	// else (not in JSON, history or an export without secrets).
	BuildToken Secret `json:"-" yaml:"build_token,omitempty"`
	// InspectToken is set while the system is to boot the inventory
	// agent (StartInspect): its report carries it. Never in JSON, history
	// or exports.
	InspectToken Secret `json:"-" yaml:"-"`
}

// BMC is how the appliance reaches a system's baseboard management
// controller. The password is write-only: it is never put in JSON, and in
// YAML only by an export that asked for secrets.
type BMC struct {
	Address     string `json:"address" yaml:"address"`
	User        string `json:"user,omitempty" yaml:"user,omitempty"`
	Password    Secret `json:"-" yaml:"password,omitempty"`
	PasswordSet bool   `json:"password_set" yaml:"-"`
	Provider    string `json:"provider,omitempty" yaml:"provider,omitempty"` // ipmi (default) or redfish
	Port        int    `json:"port,omitempty" yaml:"port,omitempty"`         // 0: the provider's default (623, 443)
	// Redfish only: Fingerprint pins the BMC's certificate (its SHA-256,
	// 64 hex digits) instead of checking it against the system's CAs;
	// Insecure checks nothing (the password goes to whoever answers).
	Fingerprint string `json:"fingerprint,omitempty" yaml:"fingerprint,omitempty"`
	Insecure    bool   `json:"insecure,omitempty" yaml:"insecure,omitempty"`
}

// Secret is a string that does not print: fmt and slog show a mask.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString masks the secret for %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Setting is one global key=value pair. A secret one (Secret) is listed
// by the API without its value.
type Setting struct {
	Key    string `json:"key" yaml:"key"`
	Value  string `json:"value" yaml:"value"`
	Secret bool   `json:"secret,omitempty" yaml:"-"`
}

// Change is one audit record: which object changed, when, who asked and
// from where, and its old and new JSON (never with secrets).
type Change struct {
	ID   int64  `json:"id"`
	At   string `json:"at"` // RFC 3339, UTC
	Kind string `json:"kind"`
	Name string `json:"name"`
	Op   string `json:"op"` // add, edit, rename, remove, set, unset
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
	Note string `json:"note,omitempty"`
	By   string `json:"by,omitempty"`   // who asked: the token's name, "installer", "appliance"
	From string `json:"from,omitempty"` // the client's address
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Clone returns a deep copy.
func (s System) Clone() System {
	s.MACs = append([]string(nil), s.MACs...)
	s.Interfaces = cloneIfaces(s.Interfaces)
	s.Settings = cloneMap(s.Settings)
	s.SecretSettings = maps.Clone(s.SecretSettings)
	if s.BMC != nil {
		b := *s.BMC
		s.BMC = &b
	}
	return s
}
