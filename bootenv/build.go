package bootenv

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
)

//go:embed files/init files/boot-hooks files/udhcpc.script files/deploy
var files embed.FS

// Modules that a boot environment carries when the kernel package has
// them, with their dependencies: the NIC drivers of common servers and
// virtual machines, and the disk drivers a role may want for scratch
// space. Each is loaded at boot; one whose hardware is absent costs only
// its load.
var (
	NICModules = []string{
		"e1000", "e1000e", "igb", "igc", "ixgbe", "i40e", "ice", "bnxt_en", "tg3", "bnx2",
		"r8169", "virtio_net", "virtio_pci", "vmxnet3",
	}
	StorageModules = []string{"virtio_blk", "virtio_scsi", "ahci", "nvme", "sd_mod"}
	// IPMIModules give the inventory agent the machine's BMC in-band
	// (/dev/ipmi0 through the KCS, SMIC or BT interface the firmware
	// describes): loaded when the kernel package has them.
	IPMIModules = []string{"ipmi_si", "ipmi_devintf"}
)

// Config is what goes into a boot environment.
type Config struct {
	Busybox []byte // a static busybox (Debian's busybox-static)
	Zonecfg []byte // a static zonecfg
	// Agent is a static provision-agent, the inventory agent that a
	// discovery or inspection boot (provision.discover=) runs; nil: none,
	// and such a boot fails saying so.
	Agent   []byte
	Modules []Module // loaded in this order
	// Extra holds more files by absolute path, made executable: zstd and
	// the libraries it links (Program) when a role image is .tar.zst.
	Extra map[string][]byte
}

// Build returns the boot environment as a gzip-compressed newc cpio
// archive, the form Linux unpacks as an initramfs. Equal inputs give equal
// bytes.
func Build(c Config) ([]byte, error) {
	if len(c.Busybox) == 0 || len(c.Zonecfg) == 0 {
		return nil, fmt.Errorf("bootenv: busybox and zonecfg are both needed")
	}
	a := NewArchive()
	dirs := []string{"bin", "dev", "etc", "fetch", "lib", "lib/modules", "lib/provision", "newroot",
		"proc", "run", "sys", "tmp"}
	for _, d := range dirs {
		if err := a.Dir(d, 0o755); err != nil {
			return nil, err
		}
	}
	var order []string
	for _, m := range c.Modules {
		if !ValidModuleName(m.Name) {
			return nil, fmt.Errorf("bootenv: bad module name %q", m.Name)
		}
		order = append(order, m.Name)
		if err := a.File("lib/modules/"+m.Name+".ko", 0o644, m.Data); err != nil {
			return nil, err
		}
	}
	init, _ := files.ReadFile("files/init")
	hooks, _ := files.ReadFile("files/boot-hooks")
	udhcpc, _ := files.ReadFile("files/udhcpc.script")
	deploy, _ := files.ReadFile("files/deploy")
	for _, err := range []error{
		a.CharDev("dev/console", 0o600, 5, 1),
		a.File("bin/busybox", 0o755, c.Busybox),
		a.Symlink("bin/sh", "busybox"),
		a.File("bin/zonecfg", 0o755, c.Zonecfg),
		a.File("init", 0o755, init),
		a.File("lib/provision/boot-hooks", 0o755, hooks),
		a.File("lib/provision/deploy", 0o644, deploy),
		a.File("etc/udhcpc.script", 0o755, udhcpc),
		a.File("lib/modules/order", 0o644, []byte(strings.Join(order, "\n")+"\n")),
	} {
		if err != nil {
			return nil, err
		}
	}
	if len(c.Agent) > 0 {
		if err := a.File("bin/provision-agent", 0o755, c.Agent); err != nil {
			return nil, err
		}
	}
	if err := addExtra(a, c.Extra, dirs); err != nil {
		return nil, err
	}
	return a.Gzip()
}

// addExtra adds files by absolute path, with the directories they need.
func addExtra(a *Archive, extra map[string][]byte, have []string) error {
	seen := map[string]bool{}
	for _, d := range have {
		seen[d] = true
	}
	names := make([]string, 0, len(extra))
	for p := range extra {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		rel := strings.TrimPrefix(path.Clean(p), "/")
		var parents []string
		for d := path.Dir(rel); d != "." && !seen[d]; d = path.Dir(d) {
			parents = append(parents, d)
			seen[d] = true
		}
		slices.Reverse(parents)
		for _, d := range parents {
			if err := a.Dir(d, 0o755); err != nil {
				return err
			}
		}
		if err := a.File(rel, 0o755, extra[p]); err != nil {
			return err
		}
	}
	return nil
}
