package registry

import (
	"cmp"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/provision/provision/internal/ipxetext"
	"github.com/provision/provision/kickstart"
)

// Loaders a profile boots its systems with (Profile.Loader, where ""
// means LoaderIPXE).
const (
	LoaderIPXE     = "ipxe"
	LoaderPXELinux = "pxelinux"
	LoaderGRUB     = "grub"
)

// BootPlan is what a network boot of a system does: the one decision
// behind its iPXE script, its pxelinux and GRUB configs and its report.
type BootPlan struct {
	// Netboot: the machine boots Image from the network; otherwise it
	// boots its local disk, for Reason.
	Netboot bool
	// Reason says why a system that does not netboot boots its disk: its
	// state ("installed", "failed"), "past-its-build-deadline" or
	// "without-a-template"; "" when its netboot flag is off. One word.
	Reason string
	Loader string // the profile's: LoaderIPXE, LoaderPXELinux or LoaderGRUB
	Image  *Image // the profile's image (shared: read only)
	// Install, when set, is the build under way: Image is an installer,
	// pointed at the build's template by the kernel command line.
	Install *Install
	// Inspect is the token of an inspection asked for (StartInspect):
	// the machine boots the inventory agent with it, whatever else the
	// plan says; "" otherwise.
	Inspect Secret
}

// Install is a build under way, as its boot needs it.
type Install struct {
	Kind  string // of its template (kickstart.Kind*): decides the installer's arguments
	Token Secret // the build's: its template is SERVER/ks/TOKEN
}

// Rootfs returns the root filesystem that the kernel command line tells
// a boot environment of: a diskless image's rootfs when no build is
// under way (unpacked into a tmpfs), or a disk image's while it is
// deployed (written to the disk).
func (p BootPlan) Rootfs() (File, bool) {
	if p.Image == nil {
		return File{}, false
	}
	switch {
	case p.Image.Kind == KindDiskless && p.Install == nil:
	case p.Image.Kind == KindDisk && p.Install != nil && p.Install.Kind == kickstart.KindDeploy:
	default:
		return File{}, false
	}
	f, ok := p.Image.Files["rootfs"]
	return f, ok
}

// BootPlan decides what a network boot of sys does at now, from its
// netboot flag and its state: a build under way boots the installer
// pointed at its template (Install is set), a diskless system boots its
// image, and everything else (installed, failed, a build past its
// deadline, or netboot off) boots its local disk.
func (s *Snapshot) BootPlan(sys *System, now time.Time) BootPlan {
	plan := BootPlan{Loader: LoaderIPXE, Inspect: sys.InspectToken}
	p := s.profiles[sys.Profile]
	if p != nil {
		plan.Loader, plan.Image = cmp.Or(p.Loader, LoaderIPXE), s.images[p.Image]
	}
	switch {
	case !sys.Netboot:
	case sys.Status == StateDiskless:
		plan.Netboot = true
	case sys.Building():
		if _, ok := s.BuildByToken(string(sys.BuildToken), now); !ok {
			plan.Reason = "past-its-build-deadline"
			break
		}
		var t kickstart.Template
		ok := p != nil && p.Kickstart != ""
		if ok {
			t, ok = s.tset.Lookup(p.Kickstart)
		}
		if !ok {
			plan.Reason = "without-a-template"
			break
		}
		plan.Netboot, plan.Install = true, &Install{Kind: t.Kind, Token: sys.BuildToken}
	default:
		plan.Reason = sys.Status
	}
	if plan.Inspect != "" {
		// An inspection asked for boots the inventory agent, once,
		// whatever the plan was: its report ends the inspection.
		if img, ok := s.DiscoveryImage(); ok {
			plan.Netboot, plan.Install, plan.Image, plan.Reason = true, nil, img, ""
		} else {
			plan.Inspect = ""
		}
	}
	return plan
}

// BootVia is what the boot at hand adds to a system's kernel command line.
type BootVia struct {
	// Server is the appliance's base URL as the machine reaches it
	// ("http://10.0.0.1:8080", no trailing slash): provision.server=, and
	// an installer's template at SERVER/ks/TOKEN.
	Server string
	// MAC is the interface that boots, which a diskless boot environment
	// configures (provision.mac=); nil: the system's first MAC.
	MAC net.HardwareAddr
	// Initrd is the name the loader gives the initrd, passed first as
	// initrd=NAME for the EFI stub of kernels that predate initrd loading
	// through LoadFile2 (the iPXE script names it "initrd"); "": none.
	Initrd string
}

// KernelArgs returns the kernel command line of a network boot of sys as
// plan says (BootPlan's, of this Snapshot), through via. iPXE, pxelinux
// and GRUB pass this line; in order:
//
//	initrd=NAME                      via.Initrd, when set
//	PROFILE-ARGS SYSTEM-ARGS         the operator's, as CheckKernelArgs splits them
//	INSTALLER-ARGS                   a build under way: kickstart.BootArgs of its template's kind
//	                                 (a disk image's deploy: provision.deploy=SERVER/ks/TOKEN)
//	provision.image=IMAGE provision.mac=MAC provision.rootfs.sha256=HEX
//	provision.rootfs.size=N [provision.rootfs.unpacked=N]
//	                                 a diskless boot or a deploy (BootPlan.Rootfs)
//	provision.host=NAME [provision.zone=ZONE] provision.server=SERVER
//
// The operator's arguments were checked when they were written; they are
// checked again, for data stored before that rule, and so is the whole
// line's length, which only the boot decides (the server's URL, the
// installer's arguments). The error names the object at fault, and an
// image registered without its files.
func (s *Snapshot) KernelArgs(sys *System, plan BootPlan, via BootVia) (string, error) {
	b, err := s.AppendKernelArgs(make([]byte, 0, 512), sys, plan, via)
	return string(b), err
}

// AppendKernelArgs appends to b the kernel command line KernelArgs returns.
func (s *Snapshot) AppendKernelArgs(b []byte, sys *System, plan BootPlan, via BootVia) ([]byte, error) {
	if img := plan.Image; img != nil && awaitingFiles(*img) {
		return nil, invalidf("system %s: image %s has no files yet: upload them with `provision image edit %s --kernel FILE --initrd FILE`", sys.Name, img.Name, img.Name)
	}
	for _, w := range []struct{ name, value string }{{"server", via.Server}, {"zone", s.Zone}, {"initrd name", via.Initrd}} {
		if err := ipxetext.CheckWord(w.value); err != nil {
			return nil, invalidf("system %s: kernel command line: %s: %v", sys.Name, w.name, err)
		}
	}
	start := len(b)
	word := wordWriter(&b, start)
	if via.Initrd != "" {
		word("initrd=", via.Initrd)
	}
	var err error
	if b, err = s.appendOperatorArgs(b, start, sys); err != nil {
		return nil, err
	}
	if in := plan.Install; in != nil {
		for _, w := range kickstart.BootArgs(in.Kind, via.Server+"/ks/"+string(in.Token)) {
			word(w)
		}
	}
	if plan.Inspect != "" {
		word("provision.inspect=", string(plan.Inspect))
		if mac := bootMAC(sys, via.MAC); mac != "" {
			word("provision.mac=", mac)
		}
	}
	if f, ok := plan.Rootfs(); ok {
		word("provision.image=", plan.Image.Name)
		if mac := bootMAC(sys, via.MAC); mac != "" {
			word("provision.mac=", mac)
		}
		word("provision.rootfs.sha256=", f.SHA256)
		word("provision.rootfs.size=", strconv.FormatInt(f.Size, 10))
		if plan.Image.Unpacked > 0 {
			word("provision.rootfs.unpacked=", strconv.FormatInt(plan.Image.Unpacked, 10))
		}
	}
	word("provision.host=", sys.Name)
	if s.Zone != "" {
		word("provision.zone=", s.Zone)
	}
	word("provision.server=", via.Server)
	if n := len(b) - start; n > MaxCmdline {
		return nil, invalidf("system %s: kernel command line is %d bytes, Linux takes %d", sys.Name, n, MaxCmdline)
	}
	return b, nil
}

// wordWriter returns a function that appends a word, made of its
// arguments, to *b: after a space when *b is longer than start.
func wordWriter(b *[]byte, start int) func(w ...string) {
	return func(w ...string) {
		if len(*b) > start {
			*b = append(*b, ' ')
		}
		for _, s := range w {
			*b = append(*b, s...)
		}
	}
}

func bootMAC(sys *System, mac net.HardwareAddr) string {
	if mac != nil {
		return mac.String()
	}
	if len(sys.MACs) > 0 {
		return sys.MACs[0]
	}
	return ""
}

// OperatorArgs returns the kernel arguments of sys, its profile's then its
// own, as its kernel command line carries them (KernelArgs); arguments
// stored before they were checked, and refused now, as they were given.
func (s *Snapshot) OperatorArgs(sys *System) string {
	b, err := s.appendOperatorArgs(nil, 0, sys)
	if err == nil {
		return string(b)
	}
	var parts []string
	if p := s.profiles[sys.Profile]; p != nil && p.KernelArgs != "" {
		parts = append(parts, p.KernelArgs)
	}
	if sys.KernelArgs != "" {
		parts = append(parts, sys.KernelArgs)
	}
	return strings.Join(parts, " ")
}

// appendOperatorArgs appends to b the words of the kernel arguments of
// sys's profile, then of sys, after a space when b has more than start
// bytes; the error names the object whose arguments are refused.
func (s *Snapshot) appendOperatorArgs(b []byte, start int, sys *System) ([]byte, error) {
	var err error
	if p := s.profiles[sys.Profile]; p != nil {
		if b, err = appendArgsOf(b, start, ObjProfile, p.Name, p.KernelArgs); err != nil {
			return nil, err
		}
	}
	return appendArgsOf(b, start, ObjSystem, sys.Name, sys.KernelArgs)
}

// appendArgsOf appends the words of args, the kernel arguments of the
// object kind name, after a space when b has more than start bytes.
func appendArgsOf(b []byte, start int, kind, name, args string) ([]byte, error) {
	n := len(b)
	if n > start {
		b = append(b, ' ')
	}
	out, err := appendArgs(b, args)
	if err != nil {
		return nil, invalidf("%s %s: kernel args: %v", kind, name, err)
	}
	if len(out) == n+1 && n > start { // no word after the space
		out = out[:n]
	}
	return out, nil
}
