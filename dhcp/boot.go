package dhcp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// Boot files served over TFTP, and the paths of those served over HTTP.
const (
	FileBIOS = "undionly.kpxe" // iPXE for BIOS PXE ROMs
	FileUEFI = "ipxe.efi"      // iPXE for x86-64 UEFI, also over HTTP
	// FilePXELinux is PXELINUX for BIOS: lpxelinux.0, the build with its
	// own TCP/IP stack, because the generated pxelinux.cfg names the
	// kernel and initrd by HTTP URL, which plain pxelinux.0 cannot fetch
	// from a PXE ROM. It loads ldlinux.c32 from its own TFTP directory.
	FilePXELinux = "lpxelinux.0"
	// FileSyslinuxEFI is SYSLINUX for x86-64 UEFI PXE (Debian's
	// syslinux-efi): it reads the same pxelinux.cfg names over TFTP and
	// loads ldlinux.e64 from its own TFTP directory.
	FileSyslinuxEFI = "syslinux.efi"
	// FileGRUB is Debian's signed network GRUB (grub-efi-amd64-signed's
	// grubnetx64.efi.signed) under the name shim loads from its own
	// directory; it reads the generated grub.cfg from its prefix, /grub.
	FileGRUB = "grubx64.efi"
	// FileShim is shim signed by Microsoft (shim-signed's
	// shimx64.efi.signed), the first stage of a Secure Boot.
	FileShim = "shimx64.efi"
	// FileARM64 is the name an iPXE for ARM64 UEFI has in the boot files,
	// when the operator puts one there (Debian's ipxe has none).
	FileARM64 = "ipxe-arm64.efi"
	PathIPXE  = "/boot.ipxe" // the host's iPXE script, under Config.HTTPBase
)

// ErrNoBootFile comes with a reply that was sent without a boot file
// because the host's loader has none for the client's firmware: the
// caller logs it.
var ErrNoBootFile = errors.New("dhcp: no boot file for this client")

// Vendor class prefixes (option 60, RFC 2132 §9.13) of firmware clients.
const (
	classPXE  = "PXEClient"  // PXE spec
	classHTTP = "HTTPClient" // UEFI 2.5 HTTP boot
)

// bootFile is the answer to a netboot client.
type bootFile struct {
	name   string // file field and option 67: a TFTP path or an HTTP URL
	class  string // option 60 to echo; empty for none
	ipxe   bool   // the client is iPXE: tell it not to wait for ProxyDHCP
	script bool   // name is the URL of the host's iPXE script
}

// chooseBoot picks the boot file for a netboot client; ok is false for a
// client that does not netboot or whose architecture has no loader. A
// non-nil error (ErrNoBootFile) says why a netboot client gets none.
func chooseBoot(req *dhcpv4.DHCPv4, h *Host, cfg Config) (bootFile, bool, error) {
	base := httpBase(cfg)
	class := req.ClassIdentifier()
	echo := ""
	for _, p := range []string{classHTTP, classPXE} {
		if strings.HasPrefix(class, p) {
			echo = p
		}
	}
	arch, hasArch := clientArch(req)
	ipxe := isIPXE(req) // option 77: iPXE is running
	switch {
	case !ipxe && !hasArch && echo == "":
		return bootFile{}, false, nil // an ordinary DHCP client
	case !ipxe && (arch == iana.EFI_ARM64 || arch == iana.EFI_ARM64_HTTP):
		return chooseARM64(h, arch, echo, cfg)
	case h != nil && h.Loader == LoaderPXELinux:
		return choosePXELinux(h.Name, arch, echo, ipxe)
	case h != nil && h.Loader == LoaderGRUB && !ipxe && (isX8664EFI(arch) || arch == iana.EFI_X86_64_HTTP || echo == classHTTP):
		return chooseGRUB(h, arch, echo)
	case ipxe: // give iPXE its script
		return bootFile{name: base + PathIPXE, class: echo, ipxe: true, script: true}, true, nil
	case arch == iana.EFI_X86_64_HTTP, echo == classHTTP && (!hasArch || isX8664EFI(arch)):
		return bootFile{name: base + "/" + FileUEFI, class: classHTTP}, true, nil
	case isX8664EFI(arch):
		return bootFile{name: FileUEFI, class: echo}, true, nil
	case arch == iana.INTEL_X86PC: // also a PXEClient sending no option 93
		return bootFile{name: FileBIOS, class: echo}, true, nil
	}
	return bootFile{}, false, nil
}

// chooseARM64 gives an ARM64 UEFI client (arch 11 PXE, 19 HTTP boot) the
// loader the boot files have for it (Config.ARM64, an iPXE built for
// ARM64, which then asks for its script like any iPXE), whatever the
// host's loader; without one the client gets its address only, and the
// error says what to add.
func chooseARM64(h *Host, arch iana.Arch, echo string, cfg Config) (bootFile, bool, error) {
	if cfg.ARM64 == "" {
		name := "an unregistered client"
		if h != nil {
			name = "host " + h.Name
		}
		return bootFile{}, false, fmt.Errorf("%w: %s is ARM64 UEFI (arch %d), and the boot files have no loader for it: add %s (iPXE built for arm64-efi)",
			ErrNoBootFile, name, uint16(arch), FileARM64)
	}
	if arch == iana.EFI_ARM64_HTTP || echo == classHTTP {
		return bootFile{name: httpBase(cfg) + "/" + cfg.ARM64, class: classHTTP}, true, nil
	}
	return bootFile{name: cfg.ARM64, class: echo}, true, nil
}

// choosePXELinux is chooseBoot for a host whose profile says loader
// pxelinux. The profile does not know its machines' firmware, so the
// client's architecture decides: a BIOS gets lpxelinux.0, from a PXE ROM
// or from iPXE (which runs it as a PXE NBP; lpxelinux does not DHCP
// again, so there is no loop), an x86-64 UEFI PXE client gets
// syslinux.efi, and UEFI HTTP boot is refused: syslinux.efi fetches
// ldlinux.e64 and its config by TFTP through the firmware's PXE base code,
// which an HTTP boot does not start, so the host gets its address only
// and the error says why.
func choosePXELinux(host string, arch iana.Arch, echo string, ipxe bool) (bootFile, bool, error) {
	switch {
	case arch == iana.EFI_X86_64_HTTP || echo == classHTTP:
		return bootFile{}, false, fmt.Errorf("%w: host %s: loader pxelinux has no UEFI HTTP boot (arch %d, class %s): boot it by UEFI PXE, or give its profile loader ipxe",
			ErrNoBootFile, host, uint16(arch), echo)
	case isX8664EFI(arch):
		return bootFile{name: FileSyslinuxEFI, class: echo, ipxe: ipxe}, true, nil
	case arch == iana.INTEL_X86PC:
		return bootFile{name: FilePXELinux, class: echo, ipxe: ipxe}, true, nil
	}
	return bootFile{}, false, nil // another architecture: the address only, as for iPXE
}

// chooseGRUB is chooseBoot for an x86-64 UEFI client of a host whose
// profile says loader grub: GRUB, or shim first with SecureBoot (shim
// then loads grubx64.efi from its own TFTP directory). UEFI HTTP boot is
// refused: Debian's signed GRUB has no HTTP, so booted over HTTP it could
// read neither its config nor the kernel; such a host gets its address
// only, and the error says why. A BIOS (no Secure Boot there) and iPXE
// already running (which a Secure Boot firmware would not have started)
// take the iPXE path instead, to the same kernel and initrd.
func chooseGRUB(h *Host, arch iana.Arch, echo string) (bootFile, bool, error) {
	if arch == iana.EFI_X86_64_HTTP || echo == classHTTP {
		return bootFile{}, false, fmt.Errorf("%w: host %s: loader grub has no UEFI HTTP boot (arch %d, class %s): Debian's signed GRUB reads nothing over HTTP; boot it by UEFI PXE",
			ErrNoBootFile, h.Name, uint16(arch), echo)
	}
	name := FileGRUB
	if h.SecureBoot {
		name = FileShim
	}
	return bootFile{name: name, class: echo}, true, nil
}

// clientArch is the first value of option 93 (RFC 4578 §2.1); a PXE client
// without it is taken for a BIOS.
func clientArch(req *dhcpv4.DHCPv4) (iana.Arch, bool) {
	if a := req.ClientArch(); len(a) > 0 {
		return a[0], true
	}
	return iana.INTEL_X86PC, false
}

func isX8664EFI(a iana.Arch) bool { return a == iana.EFI_X86_64 || a == iana.EFI_BC }

// isIPXE reports whether option 77 (RFC 3004) names iPXE, which sends it
// as a bare string rather than RFC 3004 length-prefixed strings.
func isIPXE(req *dhcpv4.DHCPv4) bool {
	for _, c := range req.UserClass() {
		if c == "iPXE" {
			return true
		}
	}
	return false
}

// setBoot fills siaddr and the file field, options 66, 67 and 60.
func setBoot(resp *dhcpv4.DHCPv4, f bootFile, next netip.Addr) {
	resp.ServerIPAddr = next.AsSlice()
	resp.BootFileName = f.name
	resp.UpdateOption(dhcpv4.OptTFTPServerName(next.String())) // option 66
	resp.UpdateOption(dhcpv4.OptBootFileName(f.name))          // option 67
	if f.class != "" {
		resp.UpdateOption(dhcpv4.OptClassIdentifier(f.class)) // option 60
	}
	if f.class == classPXE {
		// option 43, PXE vendor options: discovery control (6) = 8, boot
		// the file named here. Without it EDK II's PXE (OVMF, and most
		// UEFI firmware) takes a PXEClient offer for a BINL one, asks port
		// 4011 for the file and gives up with PXE-E16.
		resp.UpdateOption(dhcpv4.OptGeneric(dhcpv4.OptionVendorSpecificInformation, pxeSkipDiscovery))
	}
	if f.ipxe {
		// option 175, iPXE's encapsulated options: no-pxedhcp (176) = 1, so
		// iPXE does not wait seconds for ProxyDHCP offers nobody sends.
		resp.UpdateOption(dhcpv4.OptGeneric(optIPXE, []byte{ipxeNoPXEDHCP, 1, 1}))
	}
}

// pxeSkipDiscovery is option 43 holding PXE discovery control (6) with
// bit 3 set: skip boot server discovery when the offer names a file (PXE
// 2.1 §2.4.3, iPXE's PXEBS_SKIP).
var pxeSkipDiscovery = []byte{6, 1, 8, 255}

const (
	optIPXE       = dhcpv4.GenericOptionCode(175)
	ipxeNoPXEDHCP = 176
)
