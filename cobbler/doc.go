// Package cobbler reads a Cobbler 3 server's objects and plans their import
// into provision: `provision import --from cobbler DIR`.
//
// Cobbler keeps one JSON file per object under /var/lib/cobbler/collections:
//
//	collections/distros/centos7-x86_64.json
//	  {"name": "centos7-x86_64", "breed": "redhat", "arch": "x86_64",
//	   "kernel": "/var/www/cobbler/distro_mirror/centos7/images/pxeboot/vmlinuz",
//	   "initrd": "/var/www/cobbler/distro_mirror/centos7/images/pxeboot/initrd.img",
//	   "kernel_options": {}, ...}
//	collections/profiles/centos7-web.json
//	  {"name": "centos7-web", "parent": "centos7-base", "distro": "",
//	   "autoinstall": "<<inherit>>", "kernel_options": {"console": "ttyS0"}, ...}
//	collections/systems/web001.json
//	  {"name": "web001", "profile": "centos7-web", "hostname": "web001.example.com",
//	   "netboot_enabled": true, "power_type": "ipmilanplus", "power_address": "10.0.1.11",
//	   "interfaces": {"eth0": {"mac_address": "52:54:00:10:00:01",
//	     "ip_address": "10.10.0.11", "netmask": "255.255.255.0", "if_gateway": "10.10.0.1",
//	     "dns_name": "web001.example.com", "management": true, ...}}, ...}
//
// Read takes that directory, the collections directory itself, or one JSON
// file holding an object or an array of them (a dump of systems). A value of
// "<<inherit>>" takes the parent's (a profile's parent profile or distro, a
// system's profile); "~" and "" are unset.
//
// Plan maps the objects onto provision's: a distro becomes an install image
// (its kernel and initrd, read from the paths the distro names, under
// Options.Root), a profile a profile (its parent chain resolved, kernel
// options blended as Cobbler does, its autoinstall file a template when it is
// plain text), a system a system (every interface's MAC, the management
// interface's IP, its BMC for IPMI and Redfish), and the networks of the
// systems' addresses subnets named cobbler-10-0-0-0-24 where no subnet of
// the registry holds them. It checks everything before anything is written:
// duplicate IPs and MACs, invalid addresses, names or addresses the registry
// already gives to another system, file paths it refuses. A distro whose
// files are merely missing (a copy of the collections alone) is an image
// registered without files, listed in WithoutFiles with the `provision image
// edit` that uploads them; its profiles and systems are kept. Each Conflict names the
// objects in it; the ImportPlan's Doc leaves them (and what depends on them)
// out, and the caller decides whether to import the rest.
//
// ImportPlan.Doc is a registry.Document, the format of `provision export`,
// so the import itself is one all-or-nothing `POST /api/v1/import` after the
// image files (ImportPlan.Uploads) are in the appliance's store. What
// provision has no place for is in Unsupported, with the reason.
package cobbler
