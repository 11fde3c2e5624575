// Package kickstart renders the file an installer fetches while it builds a
// host: a kickstart for anaconda (RHEL, Rocky, Alma), a preseed for
// debian-installer, cloud-init user-data for Ubuntu's autoinstall, or a
// script for any other installer. Rendering is pure: it renders templates for
// data it is given and reads nothing but its embedded built-ins.
//
// A Template has a name (letters, digits, '.', '_', '-'), a kind and a text/template text. Its
// kind decides the installer's kernel arguments, which point the installer
// at the build's template URL (BootArgs); a snippet is only included by
// other templates, with {{template "NAME" .}}. A template does not define
// others ({{define}}, {{block}}): each is a Template of its own.
//
// Builtins returns the built-in templates (builtin/*.tmpl): rhel9-kickstart,
// debian12-preseed, ubuntu-autoinstall and deploy (the plan of a disk
// image's deploy, a shell fragment the deployer sources: see package
// bootenv). NewSet parses them with the
// user's templates, where a user template replaces the built-in of the same
// name; the Set is then only read, by as many goroutines as serve requests,
// and Render executes one template for one host. Errors name the template
// and line where they happened (*Error): "template rocky9: line 14: map has
// no entry for key "disk"".
//
// Handler serves the installers over HTTP: a build's rendered template by
// its token (GET /ks/TOKEN, and /ks/TOKEN/user-data and meta-data for
// cloud-init's NoCloud), or by the client's address (GET /ks), and the
// installer's callbacks (/ks/TOKEN/done, /ks/TOKEN/failed with the log as
// body, of which the last MaxLog bytes are kept). It finds builds through
// the Builds interface, which the registry satisfies (package bind).
//
// # What a template sees
//
// Data, for SampleData's host:
//
//	.System.Name        web001              the registry name, a DNS label
//	.System.Hostname    web001.internal     fully qualified
//	.System.Domain      internal            the appliance's DNS zone
//	.System.MAC         52:54:00:aa:bb:01   the first MAC; .System.MACs has them all
//	.System.IP          10.0.0.11
//	.System.Netmask     255.255.255.0       .System.Prefix is 24
//	.System.Gateway     10.0.0.1            may be ""
//	.System.DNS         [10.0.0.1]          name servers
//	.System.BMCAddress  ""                  and .System.BMCUser: "" without a BMC; never a password
//	.Profile            .Name web, .Image centos, .KernelArgs, .Template, .Storage (a disk image's layout:
//	                                        .Disks, .RAID1, .SwapMiB, .RootMiB)
//	.Subnet             .Name lan, .CIDR 10.0.0.0/24, .Gateway, .DNSServers
//	.Settings           map[string]string   global settings, overridden by the profile's, then the system's
//	.Secrets            map[string]string   secret settings, merged the same way: published nowhere, only here
//	.URLs.Server        http://10.0.0.1     the appliance
//	.URLs.Script        http://10.0.0.1/boot.ipxe          the iPXE script (by the client's address)
//	.URLs.Image         http://10.0.0.1/images/centos
//	.URLs.Template      http://10.0.0.1/ks/TOKEN           this build's template
//	.URLs.Done          http://10.0.0.1/ks/TOKEN/done      call it when the install succeeded
//	.URLs.Failed        http://10.0.0.1/ks/TOKEN/failed    POST the installer's log to it when it failed
//	.URLs.Mirrors       map[string]string   the package archives the appliance caches, by name:
//	                                        index .URLs.Mirrors "debian" is http://10.0.0.1/debian ("" when not served)
//	.Interfaces         []Interface         the host's interfaces: .Name, .Kind (physical, bond, vlan), .MAC, .BondMode,
//	                                        .Members, .VLANParent, .VLANID, .MTU, .Primary, .Address ("IP/prefix" or "");
//	                                        a host with MACs only has eth0 (primary), eth1...
//	.Networkd           []File              the systemd-networkd files of those interfaces: .Name (20-bond0.network), .Content
//
// Templates run with missingkey=error, so .Settings.KEY fails for a host
// without KEY: read a setting with index .Settings "KEY", which is "" when
// it is not set, and give it a default.
//
// # Functions
//
// Besides text/template's own (and, or, not, eq, index, len, printf, slice
// ...), templates have these, all pure: none runs a command, reads a file or
// the environment. The value comes last, so that it can be piped in.
//
//	default DEFAULT VALUE   VALUE, or DEFAULT when VALUE is ""
//	required MSG VALUE      VALUE, or the template fails with MSG when VALUE is ""
//	join SEP LIST           the strings of LIST, SEP between them
//	split SEP STRING        the strings between each SEP; none for ""
//	lower STRING            in lower case
//	upper STRING            in upper case
//	trim STRING             without leading and trailing white space
//	replace OLD NEW STRING  with every OLD replaced by NEW
//	indent N STRING         with N spaces before every line
//	hasPrefix PREFIX STRING whether STRING starts with PREFIX
//	contains SUBSTR STRING  whether STRING holds SUBSTR
//	shquote STRING          one word for a POSIX shell, in single quotes: 'it'\''s'
//	yaml STRING             a YAML double-quoted scalar, safe as any value of a cloud-config
//
// # Limits
//
// A render (of a build's template, of a preview, of the registry's check
// when a template, profile, system or setting changes) stops with an error
// that names the template after RenderTimeout (2 s), or when its output or
// any string it builds would pass MaxRenderSize (4 MiB); a printf width or
// precision, and indent's N, are at most 1024. A render that loops or
// recurses without end is stopped by its time, in the caller's goroutine:
// nothing is left running.
//
// # Settings the built-ins read
//
// All optional, so that every built-in renders for a host without settings:
//
//	install.mirror      the distribution's archive, a URL (default: its public mirror)
//	install.disk        the disk to erase and install on, a device path (default: the largest disk)
//	install.locale      default en_US.UTF-8
//	install.keyboard    an X keyboard layout, default us
//	install.timezone    default UTC
//	user.name           a user to create (preseed: none by default; autoinstall: ubuntu)
//	ssh.authorized-key  one public key, for root (kickstart, preseed) or the user (autoinstall)
//
// and the secret settings (.Secrets; an ordinary setting of the same key,
// as earlier versions used, when there is no secret one):
//
//	root.password-hash  root's crypt(3) hash (kickstart, preseed); without it root's password is locked
//	user.password-hash  that user's hash; without it the user's password is locked
//
// # Example
//
// A script template named bootstrap,
//
//	#!/bin/sh
//	# {{.System.Hostname}}: install on {{index .Settings "install.disk" | default "/dev/sda"}}
//	{{- $key := index .Settings "ssh.authorized-key" | required "ssh.authorized-key must be set"}}
//	echo {{shquote $key}} >> /root/.ssh/authorized_keys
//	curl -fsS -X POST {{shquote .URLs.Done}}
//
// renders for SampleData with the setting ssh.authorized-key as
//
//	#!/bin/sh
//	# web001.internal: install on /dev/sda
//	echo 'ssh-ed25519 AAAA... ops@example' >> /root/.ssh/authorized_keys
//	curl -fsS -X POST 'http://10.0.0.1/ks/TOKEN/done'
//
// and for a host without it fails with "template bootstrap: line 3:
// ssh.authorized-key must be set".
package kickstart
