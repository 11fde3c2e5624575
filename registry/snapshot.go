package registry

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/internal/cow"
	"github.com/provision/provision/kickstart"
)

// Snapshot is one immutable version of the registry with the indexes the
// protocol servers need. A published Snapshot is never modified: readers
// may keep it and use it from any goroutine. The pointers it returns are
// shared and must be treated as read-only.
type Snapshot struct {
	Serial uint64 // bumped by every committed change
	// Epoch (the database's creation time, Unix seconds) and Instance (its
	// random identity) tell databases apart: the SOA serial counts from
	// Epoch and data.cdb's ETag carries Instance, so a new database does
	// not repeat the serials and ETags of the one it replaced.
	Epoch    uint64
	Instance string
	Zone     string // DNS zone of the appliance, e.g. "internal"
	delta    *delta // what the commit that made this version changed

	subnets  map[string]*subnetEntry
	images   map[string]*Image
	profiles map[string]*Profile
	settings map[string]string
	secrets  map[string]Secret // global secret settings: never published
	records  map[string]string // static DNS records: text to owner name (lower case, no final dot)

	rules     map[string]*Rule               // discovery rules
	hooks     map[string]*Hook               // webhooks
	users     map[string]*User               // people
	tokens    map[string]*Token              // their API tokens, by ID
	templates map[string]*kickstart.Template // user templates
	tset      *kickstart.Set                 // built-ins and user templates, parsed
	pending   *pending                       // in a change (mutate): the renders to check before it commits

	// The indexes of systems are copy-on-write maps: a new version costs
	// in proportion to what it changes, not to the fleet.
	systems    *cow.Map[string, *System]
	byMAC      *cow.Map[macKey, *System]
	byIP       *cow.Map[netip.Addr, *System] // system IPs
	byID       *cow.Map[string, *System]     // systems by identity
	byBMC      *cow.Map[netip.Addr, *System] // BMC addresses
	byExtra    *cow.Map[netip.Addr, *System] // interfaces' extra addresses
	byHostname *cow.Map[string, *System]
	byToken    *cow.Map[Secret, *System] // systems with a build under way
	byInspect  *cow.Map[Secret, *System] // systems with an inspection asked for
}

type macKey [6]byte

func keyOf(hw net.HardwareAddr) (macKey, bool) {
	var k macKey
	if len(hw) != 6 {
		return k, false
	}
	copy(k[:], hw)
	return k, true
}

// subnetEntry is a subnet with its parsed addresses.
type subnetEntry struct {
	Subnet
	prefix              netip.Prefix
	gateway             netip.Addr
	poolFirst, poolLast netip.Addr
}

func newSnapshot(zone string) *Snapshot {
	return &Snapshot{
		Zone:       zone,
		subnets:    map[string]*subnetEntry{},
		images:     map[string]*Image{},
		profiles:   map[string]*Profile{},
		systems:    cow.New[string, *System](),
		settings:   map[string]string{},
		secrets:    map[string]Secret{},
		records:    map[string]string{},
		byMAC:      cow.New[macKey, *System](),
		byIP:       cow.New[netip.Addr, *System](),
		byID:       cow.New[string, *System](),
		byBMC:      cow.New[netip.Addr, *System](),
		byExtra:    cow.New[netip.Addr, *System](),
		byHostname: cow.New[string, *System](),
		templates:  map[string]*kickstart.Template{},
		rules:      map[string]*Rule{},
		hooks:      map[string]*Hook{},
		users:      map[string]*User{},
		tokens:     map[string]*Token{},
		byToken:    cow.New[Secret, *System](),
		byInspect:  cow.New[Secret, *System](),
	}
}

// clone makes the next version to build: the small maps are copied, the
// indexes of systems cloned (copy-on-write), the objects (immutable)
// shared. It runs under the Registry's lock (cow.Map.Clone is a write).
func (s *Snapshot) clone() *Snapshot {
	return &Snapshot{
		Serial:     s.Serial,
		Epoch:      s.Epoch,
		Instance:   s.Instance,
		Zone:       s.Zone,
		delta:      s.delta,
		subnets:    maps.Clone(s.subnets),
		images:     maps.Clone(s.images),
		profiles:   maps.Clone(s.profiles),
		systems:    s.systems.Clone(),
		settings:   maps.Clone(s.settings),
		secrets:    maps.Clone(s.secrets),
		records:    maps.Clone(s.records),
		byMAC:      s.byMAC.Clone(),
		byIP:       s.byIP.Clone(),
		byID:       s.byID.Clone(),
		byBMC:      s.byBMC.Clone(),
		byExtra:    s.byExtra.Clone(),
		byHostname: s.byHostname.Clone(),
		rules:      maps.Clone(s.rules),
		hooks:      maps.Clone(s.hooks),
		users:      maps.Clone(s.users),
		tokens:     maps.Clone(s.tokens),
		templates:  s.templates, // replaced, never modified, by setTemplates
		tset:       s.tset,
		byToken:    s.byToken.Clone(),
		byInspect:  s.byInspect.Clone(),
	}
}

// SystemByMAC finds the system that owns a MAC address.
func (s *Snapshot) SystemByMAC(hw net.HardwareAddr) (*System, bool) {
	k, ok := keyOf(hw)
	if !ok {
		return nil, false
	}
	return s.byMAC.Get(k)
}

// SystemByIP finds the system whose IP is ip.
func (s *Snapshot) SystemByIP(ip netip.Addr) (*System, bool) {
	return s.byIP.Get(ip.Unmap())
}

// AddressInUse reports whether ip is a system's IP, a BMC address or an
// interface's extra address.
func (s *Snapshot) AddressInUse(ip netip.Addr) bool {
	ip = ip.Unmap()
	return s.byIP.At(ip) != nil || s.byBMC.At(ip) != nil || s.byExtra.At(ip) != nil
}

// SystemByHostname finds the system whose hostname is hostname (as the
// registry keeps them: lower case, no final dot).
func (s *Snapshot) SystemByHostname(hostname string) (*System, bool) {
	return s.byHostname.Get(hostname)
}

// SystemByName finds a system by name.
func (s *Snapshot) SystemByName(name string) (*System, bool) {
	return s.systems.Get(name)
}

// Subnet finds a subnet by name.
func (s *Snapshot) Subnet(name string) (*Subnet, bool) {
	e, ok := s.subnets[name]
	if !ok {
		return nil, false
	}
	return &e.Subnet, true
}

// SubnetFor returns the subnet that contains ip.
func (s *Snapshot) SubnetFor(ip netip.Addr) (*Subnet, bool) {
	e := s.subnetEntryFor(ip)
	if e == nil {
		return nil, false
	}
	return &e.Subnet, true
}

func (s *Snapshot) subnetEntryFor(ip netip.Addr) *subnetEntry {
	for _, e := range s.subnets {
		if e.prefix.Contains(ip) {
			return e
		}
	}
	return nil
}

// Image finds an image by name.
func (s *Snapshot) Image(name string) (*Image, bool) { i, ok := s.images[name]; return i, ok }

// Profile finds a profile by name.
func (s *Snapshot) Profile(name string) (*Profile, bool) { p, ok := s.profiles[name]; return p, ok }

// Setting returns a global setting.
func (s *Snapshot) Setting(key string) (string, bool) { v, ok := s.settings[key]; return v, ok }

// Settings returns a copy of the global settings.
func (s *Snapshot) Settings() map[string]string { return maps.Clone(s.settings) }

// EffectiveSettings returns a system's settings: its profile's, overridden
// by its own.
func (s *Snapshot) EffectiveSettings(sys *System) map[string]string {
	out := map[string]string{}
	if p, ok := s.profiles[sys.Profile]; ok {
		maps.Copy(out, p.Settings)
	}
	maps.Copy(out, sys.Settings)
	return out
}

// SettingLayers returns what EffectiveSettings merges, without merging
// it: the settings of the system's profile (nil when it has none) and its
// own. Both are shared and must not be modified.
func (s *Snapshot) SettingLayers(sys *System) (profile, own map[string]string) {
	if p, ok := s.profiles[sys.Profile]; ok {
		profile = p.Settings
	}
	return profile, sys.Settings
}

// Subnets lists subnets sorted by name.
func (s *Snapshot) Subnets() []*Subnet {
	out := make([]*Subnet, 0, len(s.subnets))
	for _, n := range slices.Sorted(maps.Keys(s.subnets)) {
		out = append(out, &s.subnets[n].Subnet)
	}
	return out
}

// Images lists images sorted by name.
func (s *Snapshot) Images() []*Image { return sortedValues(s.images) }

// Profiles lists profiles sorted by name.
func (s *Snapshot) Profiles() []*Profile { return sortedValues(s.profiles) }

// Systems lists systems sorted by name.
func (s *Snapshot) Systems() []*System {
	out := slices.Collect(s.systems.Values())
	slices.SortFunc(out, func(a, b *System) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func sortedValues[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// Count returns how many objects of a kind (ObjSystem, ...) there are.
func (s *Snapshot) Count(kind string) int {
	switch kind {
	case ObjSubnet:
		return len(s.subnets)
	case ObjImage:
		return len(s.images)
	case ObjProfile:
		return len(s.profiles)
	case ObjSystem:
		return s.systems.Len()
	case ObjSetting:
		return len(s.settings)
	case ObjRecord:
		return len(s.records)
	case ObjRule:
		return len(s.rules)
	case ObjHook:
		return len(s.hooks)
	case ObjUser:
		return len(s.users)
	case ObjToken:
		return len(s.tokens)
	}
	return 0
}
