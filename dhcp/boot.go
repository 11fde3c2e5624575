package dhcp

import (
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// Boot files served over TFTP, and the paths of those served over HTTP.
const (
	FileBIOS     = "undionly.kpxe" // iPXE for BIOS PXE ROMs
	FileUEFI     = "ipxe.efi"      // iPXE for x86-64 UEFI, also over HTTP
	FilePXELinux = "pxelinux.0"
	PathIPXE     = "/boot.ipxe" // the host's iPXE script, under Config.HTTPBase
)

// Vendor class prefixes (option 60, RFC 2132 §9.13) of firmware clients.
const (
	classPXE  = "PXEClient"  // PXE spec
	classHTTP = "HTTPClient" // UEFI 2.5 HTTP boot
)

// bootFile is the answer to a netboot client.
type bootFile struct {
	name  string // file field and option 67: a TFTP path or an HTTP URL
	class string // option 60 to echo; empty for none
	ipxe  bool   // the client is iPXE: tell it not to wait for ProxyDHCP
}

// chooseBoot picks the boot file for a netboot client; ok is false for a
// client that does not netboot or whose architecture has no loader.
func chooseBoot(req *dhcpv4.DHCPv4, h *Host, base string) (bootFile, bool) {
	class := req.ClassIdentifier()
	echo := ""
	for _, p := range []string{classHTTP, classPXE} {
		if strings.HasPrefix(class, p) {
			echo = p
		}
	}
	arch, hasArch := clientArch(req)
	switch {
	case isIPXE(req): // option 77: iPXE is running, give it its script
		return bootFile{name: base + PathIPXE, class: echo, ipxe: true}, true
	case !hasArch && echo == "":
		return bootFile{}, false // an ordinary DHCP client
	case h != nil && h.Loader == LoaderPXELinux:
		return bootFile{name: FilePXELinux, class: echo}, true
	case arch == iana.EFI_X86_64_HTTP, echo == classHTTP && (!hasArch || isX8664EFI(arch)):
		return bootFile{name: base + "/" + FileUEFI, class: classHTTP}, true
	case isX8664EFI(arch):
		return bootFile{name: FileUEFI, class: echo}, true
	case arch == iana.INTEL_X86PC: // also a PXEClient sending no option 93
		return bootFile{name: FileBIOS, class: echo}, true
	}
	return bootFile{}, false
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
	if f.ipxe {
		// option 175, iPXE's encapsulated options: no-pxedhcp (176) = 1, so
		// iPXE does not wait seconds for ProxyDHCP offers nobody sends.
		resp.UpdateOption(dhcpv4.OptGeneric(optIPXE, []byte{ipxeNoPXEDHCP, 1, 1}))
	}
}

const (
	optIPXE       = dhcpv4.GenericOptionCode(175)
	ipxeNoPXEDHCP = 176
)
