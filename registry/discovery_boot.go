package registry

import "github.com/provision/provision/internal/ipxetext"

// Settings that shape the boot of an unknown machine on a discovery
// subnet (Subnet.Discovery) and of a system under inspection.
const (
	// SettingDiscoveryImage names the image whose boot environment runs
	// the inventory agent; unset: the first image, by name, with a boot
	// environment the appliance built (DiscoveryImage).
	SettingDiscoveryImage = "discovery.image"
	// SettingDiscoveryArgs are kernel arguments for the agent's boot
	// ("console=ttyS0,115200n8"), as a profile's are for its systems.
	SettingDiscoveryArgs = "discovery.kernel_args"
)

// DiscoveryImage returns the image whose kernel and initrd boot the
// inventory agent: SettingDiscoveryImage's, else the first image by name
// whose boot environment the appliance built from its kernel package
// (Image.Bootenv), which carries the agent. ok is false when there is
// none: a discovery boot then has nothing to boot.
func (s *Snapshot) DiscoveryImage() (*Image, bool) {
	if name, ok := s.settings[SettingDiscoveryImage]; ok && name != "" {
		img, ok := s.images[name]
		return img, ok
	}
	for _, img := range s.Images() {
		if img.Bootenv != "" {
			return img, true
		}
	}
	return nil, false
}

// AppendDiscoveryArgs appends to b the kernel command line of an
// unknown machine's boot into the inventory agent, through via:
//
//	[initrd=NAME] DISCOVERY-ARGS provision.discover=1 [provision.mac=MAC] provision.server=SERVER
//
// The error names what is at fault.
func (s *Snapshot) AppendDiscoveryArgs(b []byte, via BootVia) ([]byte, error) {
	for _, w := range []struct{ name, value string }{{"server", via.Server}, {"initrd name", via.Initrd}} {
		if err := ipxetext.CheckWord(w.value); err != nil {
			return nil, invalidf("discovery boot: kernel command line: %s: %v", w.name, err)
		}
	}
	start := len(b)
	word := wordWriter(&b, start)
	if via.Initrd != "" {
		word("initrd=", via.Initrd)
	}
	var err error
	if b, err = appendArgsOf(b, start, "setting", SettingDiscoveryArgs, s.settings[SettingDiscoveryArgs]); err != nil {
		return nil, err
	}
	word("provision.discover=1")
	if via.MAC != nil {
		word("provision.mac=", via.MAC.String())
	}
	word("provision.server=", via.Server)
	if n := len(b) - start; n > MaxCmdline {
		return nil, invalidf("discovery boot: kernel command line is %d bytes, Linux takes %d", n, MaxCmdline)
	}
	return b, nil
}

// checkDiscoverySetting checks the settings of the discovery boot when
// they are written: discovery.image names an image with a kernel and an
// initrd, discovery.kernel_args are kernel arguments as a profile's are.
func (s *Snapshot) checkDiscoverySetting(key, value string) error {
	switch key {
	case SettingDiscoveryImage:
		img, ok := s.images[value]
		if !ok {
			return invalidf("setting %s: image %q does not exist", key, value)
		}
		for _, role := range []string{"kernel", "initrd"} {
			if _, ok := img.Files[role]; !ok {
				return invalidf("setting %s: image %s has no %s to boot the inventory agent with", key, value, role)
			}
		}
	case SettingDiscoveryArgs:
		if err := CheckKernelArgs(value); err != nil {
			return invalidf("setting %s: %v", key, err)
		}
	}
	return nil
}
