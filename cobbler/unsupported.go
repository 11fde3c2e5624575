package cobbler

import (
	"encoding/json"
	"slices"
	"strings"
)

// Gap is Cobbler data that provision has no place for: a field of one
// kind of object (distro, profile, system, interface), a whole collection,
// or (Kind "") something outside the objects' files.
type Gap struct {
	Kind   string
	Field  string // a prefix when it ends in '*': "virt_*"
	Reason string
	// defaults are the values Cobbler writes when nobody set the field:
	// an object holding one of them is not reported.
	defaults []string
}

// Unsupported lists what `provision import --from cobbler` cannot carry
// over, in one place: Plan reports each one the data sets, with the
// objects that set it, and docs/migrating.md lists them all.
var Unsupported = []Gap{
	{"", "Cheetah templates and snippets", "provision templates are Go text/template: a template using Cheetah ($var, #if, $SNIPPET) is listed for review and its profile imported without it; rewrite it (provision template add)", nil},
	{"", "settings.yaml, triggers, modules", "Cobbler's own settings, sync triggers and authn/authz modules; provision's settings are its serve flags and `provision setting`, and every change is live", nil},
	{"collection", "repos", "package mirrors: point the template at a mirror instead", nil},
	{"collection", "images", "Cobbler image objects (ISOs, virtual disk images); a system booting one is left out", nil},
	{"collection", "mgmtclasses", "configuration management classes: provision has none (use settings, or the CM tool itself)", nil},
	{"collection", "packages", "configuration management resources", nil},
	{"collection", "files", "configuration management resources", nil},
	{"collection", "menus", "PXE menus: provision boots each machine what its registry entry says", nil},
	{"distro", "arch", "images carry no architecture: the loader follows the client's DHCP architecture", []string{"x86_64"}},
	{"distro", "boot_loaders", "the loader is per profile (ipxe, pxelinux or grub): set it with provision profile edit --loader", nil},
	{"distro", "remote_boot_kernel", "images are files in the appliance's store, not URLs", nil},
	{"distro", "remote_boot_initrd", "images are files in the appliance's store, not URLs", nil},
	{"distro", "source_repos", "package mirrors", nil},
	{"*", "kernel_options_post", "arguments for the installed system's boot loader: the template's business", nil},
	{"*", "mgmt_classes", "configuration management classes", nil},
	{"*", "mgmt_parameters", "configuration management parameters", []string{"{}"}},
	{"*", "boot_files", "files for the TFTP tree: provision serves only an image's own files", nil},
	{"*", "fetchable_files", "extra files over TFTP/HTTP", nil},
	{"*", "template_files", "files Cobbler renders at sync time", nil},
	{"*", "redhat_management_key", "Spacewalk/Uyuni registration", nil},
	{"*", "virt_*", "koan virtual machine settings: provision does not create VMs", []string{"auto", "xenpv", "kvm", "qemu", "raw", "xenbr0", "virbr0", "1", "5", "512", "true", "<<inherit>>"}},
	{"profile", "repos", "package mirrors", nil},
	{"*", "dhcp_tag", "DHCP classes: provision's subnets are chosen by the address", nil},
	{"*", "next_server_v4", "the next server is per subnet (provision subnet edit --next-server)", nil},
	{"*", "next_server_v6", "provision serves IPv4", nil},
	{"*", "filename", "the boot file is chosen by provision for the client's firmware", nil},
	{"*", "proxy", "installer proxies: the template's business", nil},
	{"*", "server", "provision's own address is the server", nil},
	{"profile", "enable_menu", "PXE menus", []string{"true"}},
	{"profile", "menu", "PXE menus", nil},
	{"*", "name_servers_search", "subnets carry DNS servers, not search domains: the template's business", nil},
	{"system", "boot_loaders", "the loader is per profile", nil},
	{"system", "autoinstall", "templates are per profile: a system's own template is not carried over", nil},
	{"system", "power_id", "power ports and blade slots: provision speaks to each machine's own BMC", nil},
	{"system", "power_options", "power agent options", nil},
	{"system", "power_identity_file", "SSH power agents", nil},
	{"system", "ipv6_autoconfiguration", "provision serves IPv4", nil},
	{"system", "ipv6_default_device", "provision serves IPv4", nil},
	{"system", "serial_device", "serial consoles: put console= in the kernel options", []string{"-1"}},
	{"system", "serial_baud_rate", "serial consoles: put console= in the kernel options", []string{"-1", "0"}},
	{"system", "status", "Cobbler's free-form status (development, production...): provision's state is the install lifecycle", nil},
	{"system", "repos_enabled", "package mirrors", nil},
	{"interface", "interface_type", "bonds and bridges are not configured: every interface's MAC is the system's, and the bond's or bridge's IP its address", []string{"na"}},
	{"interface", "interface_master", "bonds and bridges are not configured", nil},
	{"interface", "bonding_opts", "bonds are not configured", nil},
	{"interface", "bridge_opts", "bridges are not configured", nil},
	{"interface", "static_routes", "per-interface static routes", nil},
	{"interface", "mtu", "the MTU is the template's business", nil},
	{"interface", "cnames", "DNS aliases: add them as static records (provision zone import)", nil},
	{"interface", "ipv6_address", "provision serves IPv4", nil},
	{"interface", "ipv6_secondaries", "provision serves IPv4", nil},
	{"interface", "ipv6_static_routes", "provision serves IPv4", nil},
	{"interface", "ipv6_default_gateway", "provision serves IPv4", nil},
	{"interface", "connected_mode", "InfiniBand settings", nil},
	{"interface", "static", "provision hands every system its address by DHCP reservation; how the installed system configures its network is the template's business", []string{"false"}},
}

// Found is a Gap that the data sets, with the objects that set it.
type Found struct {
	Gap
	Objects []string
}

func (g Gap) appliesTo(kind string) bool {
	return g.Kind == kind || g.Kind == "*" && kind != "interface" && kind != "collection"
}

// setIn reports whether the field (or, for a prefix, any field it starts)
// holds a value of its own in m.
func (g Gap) setIn(m map[string]any) bool {
	if prefix, ok := strings.CutSuffix(g.Field, "*"); ok {
		for k, v := range m {
			if strings.HasPrefix(k, prefix) && g.meaningful(v) {
				return true
			}
		}
		return false
	}
	v, ok := m[g.Field]
	return ok && g.meaningful(v)
}

func (g Gap) meaningful(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x && !slices.Contains(g.defaults, "true")
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case json.Number:
		s := x.String()
		return s != "0" && s != "0.0" && !slices.Contains(g.defaults, s)
	}
	s := str(v)
	return !unset(s) && !slices.Contains(g.defaults, s) && !slices.Contains(g.defaults, strings.ToLower(s))
}

// unsupportedIn lists the Gaps c sets, with the objects that set them.
func unsupportedIn(c *Collection) []Found {
	var out []Found
	for _, g := range Unsupported {
		var objs []string
		add := func(kind string, label string, m map[string]any) {
			if g.appliesTo(kind) && g.setIn(m) {
				objs = append(objs, label)
			}
		}
		for _, d := range c.Distros {
			add("distro", d.label(), d.Fields)
		}
		for _, p := range c.Profiles {
			add("profile", p.label(), p.Fields)
		}
		for _, s := range c.Systems {
			add("system", s.label(), s.Fields)
			for _, i := range s.Interfaces {
				add("interface", s.label()+" "+i.Name, i.Fields)
			}
		}
		if g.Kind == "collection" && c.Others[g.Field] > 0 {
			objs = append(objs, plural(c.Others[g.Field], "object"))
		}
		if len(objs) > 0 {
			out = append(out, Found{g, objs})
		}
	}
	return out
}
