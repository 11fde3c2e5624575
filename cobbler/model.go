package cobbler

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Inherit is Cobbler's value for "take the parent's".
const Inherit = "<<inherit>>"

// Collection is what Read found: Cobbler's objects, each with every field
// it had (Fields) for what the typed fields do not carry.
type Collection struct {
	Dir      string // what was read
	Base     string // the directory holding collections/ and templates/ ("" for a file)
	Distros  []Distro
	Profiles []Profile
	Systems  []System
	// Others counts the objects of collections provision has no
	// equivalent for (repos, images, mgmtclasses, packages, files, menus).
	Others map[string]int
}

// Distro is a Cobbler distro: a kernel and initrd.
type Distro struct {
	Name, Kernel, Initrd, Arch, Breed, OSVersion string
	KernelOptions                                KernelOptions
	AutoinstallMeta                              map[string]string
	Fields                                       map[string]any
	File                                         string
}

// Profile is a Cobbler profile: a distro (or a parent profile) with kernel
// options and an autoinstall template.
type Profile struct {
	Name, Distro, Parent string
	Autoinstall          string // a file under /var/lib/cobbler/templates, Inherit, or ""
	KernelOptions        KernelOptions
	AutoinstallMeta      map[string]string
	NameServers          []string // nil: inherited
	Fields               map[string]any
	File                 string
}

// System is a Cobbler system.
type System struct {
	Name, Profile, Image, Hostname, Gateway string
	Autoinstall                             string // the system's own template, Inherit or ""
	NetbootEnabled                          bool
	KernelOptions                           KernelOptions
	AutoinstallMeta                         map[string]string
	NameServers                             []string
	PowerType, PowerAddress, PowerUser      string
	PowerPass                               string
	Interfaces                              []Interface // sorted by name, eth2 before eth10
	Fields                                  map[string]any
	File                                    string
}

// Interface is one network interface of a system.
type Interface struct {
	Name, MAC, IP, Netmask, Gateway, DNSName, Type string
	Static, Management                             bool
	Fields                                         map[string]any
}

func decodeDistro(m map[string]any, file string) Distro {
	return Distro{Name: str(m["name"]), Kernel: str(m["kernel"]), Initrd: str(m["initrd"]),
		Arch: str(m["arch"]), Breed: str(m["breed"]), OSVersion: str(m["os_version"]),
		KernelOptions: parseOptions(m["kernel_options"]), AutoinstallMeta: dict(m["autoinstall_meta"]),
		Fields: m, File: file}
}

func decodeProfile(m map[string]any, file string) Profile {
	return Profile{Name: str(m["name"]), Distro: str(m["distro"]), Parent: str(m["parent"]),
		Autoinstall: str(m["autoinstall"]), KernelOptions: parseOptions(m["kernel_options"]),
		AutoinstallMeta: dict(m["autoinstall_meta"]), NameServers: list(m["name_servers"]),
		Fields: m, File: file}
}

func decodeSystem(m map[string]any, file string) System {
	s := System{Name: str(m["name"]), Profile: str(m["profile"]), Image: str(m["image"]),
		Hostname: str(m["hostname"]), Gateway: str(m["gateway"]), Autoinstall: str(m["autoinstall"]),
		NetbootEnabled: boolean(m["netboot_enabled"]), KernelOptions: parseOptions(m["kernel_options"]),
		AutoinstallMeta: dict(m["autoinstall_meta"]), NameServers: list(m["name_servers"]),
		PowerType: str(m["power_type"]), PowerAddress: str(m["power_address"]),
		PowerUser: str(m["power_user"]), PowerPass: str(m["power_pass"]), Fields: m, File: file}
	ifaces, _ := m["interfaces"].(map[string]any)
	for name, v := range ifaces {
		f, _ := v.(map[string]any)
		s.Interfaces = append(s.Interfaces, Interface{Name: name, MAC: str(f["mac_address"]),
			IP: str(f["ip_address"]), Netmask: str(f["netmask"]), Gateway: str(f["if_gateway"]),
			DNSName: str(f["dns_name"]), Type: str(f["interface_type"]),
			Static: boolean(f["static"]), Management: boolean(f["management"]), Fields: f})
	}
	slices.SortFunc(s.Interfaces, func(a, b Interface) int { return naturalCompare(a.Name, b.Name) })
	return s
}

// str returns v as text: "" for missing, null and "~"; numbers as written.
func str(v any) string {
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "~" {
			return s
		}
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// unset reports whether a scalar means "no value of its own".
func unset(s string) bool { return s == "" || s == Inherit }

// boolean reads Cobbler's booleans: true, "True", "1", "yes", "on", 1.
func boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return x.String() != "0"
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes", "y", "on":
			return true
		}
	}
	return false
}

// list reads a list of strings, or a string of them separated by commas or
// white space; nil for missing, empty or Inherit.
func list(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s := str(e); s != "" {
				out = append(out, s)
			}
		}
	case string:
		if unset(str(x)) {
			return nil
		}
		out = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	}
	return out
}

// dict reads a flat dictionary (autoinstall_meta) as text values; a
// string "k=v k2=v2" works too, as Cobbler's command line writes it.
func dict(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out[k] = metaValue(e)
		}
	case string:
		for k, vals := range parseOptions(x).m {
			out[k] = strings.Join(vals, " ")
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func metaValue(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, metaValue(e))
		}
		return strings.Join(parts, " ")
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	case nil:
		return ""
	}
	return str(v)
}

// naturalCompare orders names with their numbers by value: eth2 < eth10.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na - nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func (d Distro) label() string  { return "distro " + d.Name }
func (p Profile) label() string { return "profile " + p.Name }
func (s System) label() string  { return "system " + s.Name }
