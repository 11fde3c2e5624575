package registry

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/internal/cow"
)

// putSubnet adds (prev == "") or replaces the subnet prev.
func (s *Snapshot) putSubnet(prev string, sub Subnet) (*Subnet, error) {
	sub.DNSServers = slices.Clone(sub.DNSServers)
	e, err := parseSubnet(sub)
	if err != nil {
		return nil, err
	}
	if err := s.checkNew(ObjSubnet, prev, e.Name, s.subnets[e.Name] != nil); err != nil {
		return nil, err
	}
	if e.Discovery && !e.poolFirst.IsValid() {
		return nil, invalidf("subnet %s: discovery needs a pool: an unknown machine boots the inventory agent on an address leased from it", e.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(s.subnets)) {
		o := s.subnets[name]
		if o.Name != prev && o.prefix.Overlaps(e.prefix) {
			return nil, conflictf("subnet %s (%s) overlaps subnet %s (%s)", e.Name, e.CIDR, o.Name, o.CIDR)
		}
	}
	if err := s.checkSubnetHosts(prev, e); err != nil {
		return nil, err
	}
	if users := s.ruleUsers(ObjSubnet, prev); prev != e.Name && len(users) > 0 {
		return nil, inUse(ObjSubnet, prev, ObjRule, users)
	}
	delete(s.subnets, prev)
	s.subnets[e.Name] = e
	return &e.Subnet, nil
}

// checkSubnetHosts keeps every system's IP valid: it must stay inside a
// subnet and clear of the new subnet's reserved addresses.
func (s *Snapshot) checkSubnetHosts(prev string, e *subnetEntry) error {
	// Lowest address first, so the error names the same system every time.
	for _, ip := range sortedAddrs(s.byBMC) {
		sys := s.byBMC.At(ip)
		if why := e.reservedRole(ip); why != "" && e.prefix.Contains(ip) {
			return conflictf("subnet %s: bmc address %s of system %s would be %s", e.Name, ip, sys.Name, why)
		}
	}
	for _, m := range []*cow.Map[netip.Addr, *System]{s.byIP, s.byExtra} { // system IPs, then interfaces' extra addresses
		for _, ip := range sortedAddrs(m) {
			sys := m.At(ip)
			if e.prefix.Contains(ip) {
				if why := e.reservedRole(ip); why != "" {
					return conflictf("subnet %s: ip %s of system %s would be %s", e.Name, ip, sys.Name, why)
				}
				continue
			}
			if old := s.subnets[prev]; old != nil && old.prefix.Contains(ip) {
				return inUse(ObjSubnet, prev, "system", []string{sys.Name})
			}
		}
	}
	return nil
}

// sortedAddrs returns m's keys in address order.
func sortedAddrs(m *cow.Map[netip.Addr, *System]) []netip.Addr {
	return slices.SortedFunc(m.Keys(), netip.Addr.Compare)
}

func (s *Snapshot) deleteSubnet(name string) (*Subnet, error) {
	e, ok := s.subnets[name]
	if !ok {
		return nil, notFound(ObjSubnet, name)
	}
	var users []string
	for _, m := range []*cow.Map[netip.Addr, *System]{s.byIP, s.byExtra} {
		for ip, sys := range m.All() {
			if e.prefix.Contains(ip) && !slices.Contains(users, sys.Name) {
				users = append(users, sys.Name)
			}
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return nil, inUse(ObjSubnet, name, "system", users)
	}
	if users := s.ruleUsers(ObjSubnet, name); len(users) > 0 {
		return nil, inUse(ObjSubnet, name, ObjRule, users)
	}
	delete(s.subnets, name)
	return &e.Subnet, nil
}

// checkNew refuses to create an object whose name is taken, and to
// replace one that does not exist.
func (s *Snapshot) checkNew(kind, prev, name string, taken bool) error {
	if prev == "" || prev != name {
		if taken {
			return conflictf("%s %s already exists", kind, name)
		}
	}
	return nil
}

var imageFiles = map[string][]string{
	KindInstall:  {"kernel", "initrd"},
	KindDiskless: {"kernel", "initrd", "rootfs"},
	// The appliance builds a disk image's kernel and initrd, which run
	// the deployer, from its kernel package; the rootfs boots its own.
	KindDisk: {"kernel", "initrd", "rootfs", "kernel-package"},
}

func (s *Snapshot) putImage(prev string, img Image) (*Image, error) {
	if err := CheckObjectName(ObjImage, img.Name); err != nil {
		return nil, err
	}
	if img.Kind == "" {
		img.Kind = KindInstall
	}
	want, ok := imageFiles[img.Kind]
	if !ok {
		return nil, invalidf("image %s: kind %q must be install, diskless or disk", img.Name, img.Kind)
	}
	if err := checkDiskBoot(&img); err != nil {
		return nil, err
	}
	for role, f := range img.Files {
		if !slices.Contains(want, role) && !(img.Kind == KindDiskless && role == "kernel-package") {
			return nil, invalidf("image %s: a %s image has no %s file (it has %s)", img.Name, img.Kind, role, strings.Join(want, ", "))
		}
		if !isSHA256(f.SHA256) {
			return nil, invalidf("image %s: %s sha256 %q is not 64 hex digits", img.Name, role, f.SHA256)
		}
	}
	for _, role := range want {
		if _, ok := img.Files[role]; !ok && !awaitingFiles(img) {
			return nil, invalidf("image %s: a %s image needs a %s file", img.Name, img.Kind, role)
		}
	}
	if err := s.checkNew(ObjImage, prev, img.Name, s.images[img.Name] != nil); err != nil {
		return nil, err
	}
	img.Files = cloneFiles(img.Files)
	delete(s.images, prev)
	s.images[img.Name] = &img
	return &img, nil
}

// awaitingFiles reports whether img is an install image registered
// without any file, its files to be uploaded (`provision image edit`):
// an import whose kernel and initrd were not at hand. Its profiles and
// systems are kept; a network boot of it fails, naming it (AppendKernelArgs).
func awaitingFiles(img Image) bool { return img.Kind == KindInstall && len(img.Files) == 0 }

func (s *Snapshot) deleteImage(name string) (*Image, error) {
	img, ok := s.images[name]
	if !ok {
		return nil, notFound(ObjImage, name)
	}
	var users []string
	for _, p := range s.profiles {
		if p.Image == name {
			users = append(users, p.Name)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return nil, inUse(ObjImage, name, "profile", users)
	}
	delete(s.images, name)
	return img, nil
}

func isSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func cloneFiles(m map[string]File) map[string]File {
	c := make(map[string]File, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
