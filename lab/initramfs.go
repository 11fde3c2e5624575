package lab

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/provision/provision/bootenv"
)

// Marker lines that the initramfs's /init prints on the serial console.
const (
	BootedMarker   = "PROVISION-LAB-BOOTED"   // followed by " host=NAME"
	DHCPMarker     = "PROVISION-LAB-DHCP"     // followed by " ip=ADDR" or " failed"
	PoweroffMarker = "PROVISION-LAB-POWEROFF" // the last line before poweroff -f
)

// BootedPattern matches the boot marker; its first group is the value of
// provision.host= on the kernel command line (empty when there is none).
// The group takes only a host name's characters: the kernel's own console
// messages may follow the marker on the same line, without a space
// ("host=sbvm[    1.234567] ..."), when a printk lands before the
// marker's newline was written.
func BootedPattern() *regexp.Regexp {
	return regexp.MustCompile(BootedMarker + ` host=([A-Za-z0-9._-]*)`)
}

// initPrelude starts every /init: mount the kernel file systems, define
// say (a line on the first serial port) and load the modules; %s is the
// list of module files under /lib/modules, in load order.
const initPrelude = `#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
con=/dev/ttyS0
[ -c $con ] || con=/dev/console
say() { echo "$*" >$con; }
for m in %s; do
	insmod /lib/modules/$m || say "PROVISION-LAB-ERROR insmod $m failed"
done
`

// initScript is /init: the prelude, then print the markers, try DHCP on
// eth0, and power off.
const initScript = initPrelude + `set -f
host=
for w in $(cat /proc/cmdline); do
	case "$w" in provision.host=*) host="${w#provision.host=}" ;; esac
done
set +f
say "PROVISION-LAB-BOOTED host=$host"
ip link set lo up
if ip link set eth0 up; then
	udhcpc -i eth0 -f -q -n -t 5 -T 1 -s /etc/udhcpc.script || say "PROVISION-LAB-DHCP failed"
else
	say "PROVISION-LAB-DHCP failed"
fi
say "PROVISION-LAB-POWEROFF"
poweroff -f
`

// udhcpcScript configures eth0 from busybox udhcpc's environment.
const udhcpcScript = `#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface" ;;
bound|renew)
	ifconfig "$interface" "$ip" netmask "$subnet"
	for r in $router; do route add default gw "$r" dev "$interface"; done
	echo "PROVISION-LAB-DHCP ip=$ip" >/dev/ttyS0
	;;
esac
`

// buildInitramfs returns a gzip-compressed newc cpio archive holding busybox,
// the modules, /init and the udhcpc script. Equal inputs give equal bytes.
func buildInitramfs(busybox []byte, modules []bootenv.Module) ([]byte, error) {
	return buildImage(busybox, modules, initScript, nil)
}

// buildImage is buildInitramfs with init (a format whose %s is the list of
// module files) as /init and extra files (name under lib/ to contents).
func buildImage(busybox []byte, modules []bootenv.Module, init string, extra map[string][]byte) ([]byte, error) {
	a := bootenv.NewArchive()
	for _, d := range []string{"bin", "dev", "etc", "lib", "lib/modules", "proc", "root",
		"run", "sbin", "sys", "tmp", "usr", "usr/bin", "usr/sbin"} {
		if err := a.Dir(d, 0o755); err != nil {
			return nil, err
		}
	}
	files := make([]string, 0, len(modules))
	for _, m := range modules {
		if !bootenv.ValidModuleName(m.Name) {
			return nil, fmt.Errorf("initramfs: bad module name %q", m.Name)
		}
		files = append(files, m.Name+".ko")
		if err := a.File("lib/modules/"+m.Name+".ko", 0o644, m.Data); err != nil {
			return nil, err
		}
	}
	for _, err := range []error{
		a.CharDev("dev/console", 0o600, 5, 1),
		a.File("bin/busybox", 0o755, busybox),
		a.Symlink("bin/sh", "busybox"),
		a.File("init", 0o755, []byte(fmt.Sprintf(init, strings.Join(files, " ")))),
		a.File("etc/udhcpc.script", 0o755, []byte(udhcpcScript)),
	} {
		if err != nil {
			return nil, err
		}
	}
	for name, data := range extra {
		if err := a.File("lib/"+name, 0o644, data); err != nil {
			return nil, err
		}
	}
	return a.Gzip()
}
