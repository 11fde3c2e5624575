package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/provision/provision/lab"
	"github.com/provision/provision/roles"
)

// demo is one run: the Env that owns what it makes, and the live view.
type demo struct {
	env     *lab.Env
	o       Options
	zonecfg string
	p       *printer
}

const installTemplate = `# provision demo: what the lab installer writes to {{.System.Name}}'s disk
host={{.System.Name}} ip={{.System.IP}}/{{.System.Prefix}} mac={{.System.MAC}}
role={{index .Settings "role" | default "none"}} disk={{.Settings.disk}}
`

func (d *demo) run(ctx context.Context) error {
	d.p.say("building the boot files (the Debian kernel package is downloaded once, into /var/cache/provision-lab)")
	files, err := d.bootFiles()
	if err != nil {
		return err
	}
	n, err := d.env.NewNet("demo")
	if err != nil {
		return err
	}
	app, err := d.startAppliance(ctx, n)
	if err != nil {
		return err
	}
	d.p.say("appliance up at %s in namespace %s (bridge in %s)", app.server, n.ServerNS, n.BridgeNS)
	if err := app.runAll(register(n, files)...); err != nil {
		return err
	}
	d.p.say("registered lvs01 (diskless, role lvs, its own lvs.vrid=100) and web01 (installs from template demo-install)")
	accel, err := d.chooseAccel(app)
	if err != nil {
		return err
	}
	if err := d.followEvents(app); err != nil {
		return err
	}
	if err := d.bootAndWatch(ctx, app, accel); err != nil {
		return err
	}
	d.p.say("lvs01 booted diskless and web01 is installed: the demo went as expected")
	list, err := app.run("system", "list")
	if err != nil {
		return err
	}
	d.p.raw(list)
	if d.o.Once {
		return nil
	}
	d.p.say("the lab stays up (lvs01 keeps running) until Ctrl-C")
	<-ctx.Done()
	return nil
}

// bootFiles are what the demo's images are added from.
type bootFiles struct {
	kernelPackage              string // the Debian kernel package: lvs01's kernel and modules
	instKernel, instInitrd     string // the lab installer, web01's image
	lvsRootfs, installTemplate string // files in a work directory
}

func (d *demo) bootFiles() (bootFiles, error) {
	var f bootFiles
	var err error
	if f.kernelPackage, err = d.env.KernelPackage(); err != nil {
		return f, err
	}
	if f.instKernel, f.instInitrd, err = d.env.InstallerAssets(); err != nil {
		return f, err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return f, fmt.Errorf("busybox-static: %w", err)
	}
	rootfs, err := roles.BusyboxRootfs(bb, roles.LVS())
	if err != nil {
		return f, err
	}
	work, err := d.env.TempDir()
	if err != nil {
		return f, err
	}
	f.lvsRootfs, f.installTemplate = filepath.Join(work, "lvs.tar.gz"), filepath.Join(work, "demo-install")
	for name, data := range map[string][]byte{f.lvsRootfs: rootfs, f.installTemplate: []byte(installTemplate)} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return f, err
		}
	}
	return f, nil
}

// register is the CLI calls that set the demo up: the subnet, the
// settings, the images, profiles and both systems.
func register(n *lab.Net, f bootFiles) [][]string {
	return [][]string{
		{"subnet", "add", "demo", "--cidr", n.Prefix.String()},
		{"setting", "set", "net.private", "192.168.0.0/20"},
		{"setting", "set", "lvs.vrid", "50"},
		{"image", "add", "lvs", "--kind", "diskless", "--kernel-package", f.kernelPackage, "--rootfs", f.lvsRootfs},
		{"image", "add", "installer", "--kernel", f.instKernel, "--initrd", f.instInitrd},
		{"template", "add", "demo-install", "--kind", "script", "--file", f.installTemplate},
		{"profile", "add", "lvs", "--image", "lvs", "--set", "role=lvs", "--kernel-args", "console=ttyS0 panic=10"},
		{"profile", "add", "web", "--image", "installer", "--kickstart", "demo-install", "--set", "role=web", "--set", "disk=vda",
			"--kernel-args", "console=ttyS0 panic=5"},
		{"system", "add", "lvs01", "--mac", lvsMAC, "--ip", n.Addr(10).String(), "--profile", "lvs", "--set", "lvs.vrid=100"},
		{"system", "add", "web01", "--mac", webMAC, "--ip", n.Addr(11).String(), "--profile", "web"},
	}
}

// bootAndWatch powers both VMs on and waits until each got where it
// should, or the deadline.
func (d *demo) bootAndWatch(ctx context.Context, app *appliance, accel string) error {
	life := d.o.Timeout
	if !d.o.Once {
		life = 24 * time.Hour
	}
	lvs, err := d.env.BootVMWith(app.n, lvsMAC, life, lab.VMOptions{MemoryMiB: 384, Accel: accel})
	if err != nil {
		return err
	}
	disk, err := d.env.NewDisk(64)
	if err != nil {
		return err
	}
	web, err := d.env.BootVMWith(app.n, webMAC, life, lab.VMOptions{Disk: disk, Reboot: true, DebugExit: true, Accel: accel})
	if err != nil {
		return err
	}
	d.p.say("lvs01 and web01 powered on (QEMU, %s)", accel)
	deadline := time.Now().Add(d.o.Timeout)
	var wg sync.WaitGroup
	var lvsErr, webErr error
	wg.Go(func() { lvsErr = d.watchLVS(lvs, deadline) })
	wg.Go(func() { webErr = d.watchWeb(ctx, web, app, deadline) })
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if lvsErr != nil || webErr != nil {
		for _, e := range []error{lvsErr, webErr} {
			if e != nil {
				d.p.say("FAILED: %v", e)
			}
		}
		return ErrFailed
	}
	return nil
}
