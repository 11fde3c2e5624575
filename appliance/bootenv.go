package appliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
)

// bootenvBuilder makes the kernel and initrd of diskless and disk images
// from their kernel package (package bootenv), with the appliance's
// busybox and zonecfg (and, for a disk image, its deploy tools), and
// measures their rootfs.
type bootenvBuilder struct {
	busybox, zonecfg string // paths; zonecfg "" means: next to this program, else on PATH
	agent            string // provision-agent's path; "": next to this program, else on PATH, else none
	blobs            *images.Store
	tmp              string
	mu               sync.Mutex // one build at a time: each unpacks a kernel package
}

// Prepare completes a diskless or disk image before it is stored: it
// inspects its rootfs (a tar archive, optionally gzip, zstd or xz
// compressed, whose members stay inside the root) for the tmpfs size,
// and, when it has a kernel-package file, builds its kernel and initrd
// from it. A disk image's rootfs must boot from a disk (its kernel, its
// initramfs, GRUB: recorded in img.Disk), and its kernel package is
// required: its boot environment runs the deployer.
func (b *bootenvBuilder) Prepare(ctx context.Context, img *registry.Image) error {
	if img.Kind != registry.KindDiskless && img.Kind != registry.KindDisk {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	root, ok := img.Files["rootfs"]
	if !ok {
		return fmt.Errorf("image %s: a %s image needs a rootfs file", img.Name, img.Kind)
	}
	f, err := b.blobs.Open(root.SHA256)
	if err != nil {
		return fmt.Errorf("image %s: rootfs: %w", img.Name, err)
	}
	info, err := bootenv.InspectRootfs(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("image %s: %w", img.Name, err)
	}
	img.Unpacked, img.Disk = info.Unpacked, nil
	if img.Kind == registry.KindDisk {
		kernel, loaders, err := info.Disk.Check()
		if err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
		img.Disk = &registry.DiskBoot{Kernel: kernel, Loaders: loaders}
		if _, ok := img.Files["kernel-package"]; !ok {
			return fmt.Errorf("image %s: a disk image needs a kernel-package: the appliance builds the deployer's boot environment from it", img.Name)
		}
	}
	pkg, ok := img.Files["kernel-package"]
	if !ok {
		if _, ok := img.Files["initrd"]; !ok {
			return fmt.Errorf("image %s: a diskless image needs a kernel-package (the appliance builds its boot environment) or a kernel and an initrd", img.Name)
		}
		img.Bootenv = ""
		return nil
	}
	return b.build(img, pkg.SHA256, info.Format)
}

func (b *bootenvBuilder) build(img *registry.Image, pkgDigest, format string) error {
	busybox, zonecfg, err := b.tools()
	if err != nil {
		return fmt.Errorf("image %s: boot environment: %w", img.Name, err)
	}
	f, err := b.blobs.Open(pkgDigest)
	if err != nil {
		return fmt.Errorf("image %s: kernel-package: %w", img.Name, err)
	}
	pkgPath := f.Name()
	f.Close()
	disk := img.Kind == registry.KindDisk
	var need []string
	if disk {
		need = bootenv.DeployModules
	}
	k, err := bootenv.FromPackage(pkgPath, b.tmp, need...)
	if err != nil {
		return fmt.Errorf("image %s: kernel-package sha256:%s: %w", img.Name, pkgDigest[:12], err)
	}
	agent, err := b.agentProgram()
	if err != nil {
		return fmt.Errorf("image %s: boot environment: %w", img.Name, err)
	}
	cfg := bootenv.Config{Busybox: busybox, Zonecfg: zonecfg, Agent: agent, Modules: k.Modules}
	if disk {
		if cfg.Extra, err = bootenv.DeployExtra(); err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
	} else if format == bootenv.FormatZstd {
		zstd, err := exec.LookPath("zstd")
		if err == nil {
			cfg.Extra, err = bootenv.Program(zstd)
		}
		if err != nil {
			return fmt.Errorf("image %s: its rootfs is zstd-compressed, and the boot environment needs zstd (Debian package zstd): %w", img.Name, err)
		}
	}
	initrd, err := bootenv.Build(cfg)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.Name, err)
	}
	for role, data := range map[string][]byte{"kernel": k.Vmlinuz, "initrd": initrd} {
		digest, size, err := b.blobs.Put(bytes.NewReader(data), "")
		if err != nil {
			return fmt.Errorf("image %s: %s: %w", img.Name, role, err)
		}
		img.Files[role] = registry.File{SHA256: digest, Size: size}
	}
	img.Bootenv = fmt.Sprintf("kernel %s, %d modules, busybox %s, zonecfg %s", k.Version, len(k.Modules), short(busybox), short(zonecfg))
	if agent != nil {
		img.Bootenv += ", agent " + short(agent)
	}
	switch {
	case disk:
		img.Bootenv += ", deploy tools " + deployToolNames()
	case format == bootenv.FormatZstd:
		img.Bootenv += ", zstd"
	}
	return nil
}

// deployToolNames lists the deploy tools a disk image's boot environment
// carries, for its Bootenv text.
func deployToolNames() string {
	var names []string
	for _, t := range bootenv.DeployTools {
		names = append(names, t.Name)
	}
	return strings.Join(names, " ")
}

// refreshBootenvs rebuilds, at startup and in the background, the boot
// environment of every diskless or disk image built with another busybox,
// zonecfg or provision-agent than the appliance's now (an upgrade): what bootenv build does
// by hand. A failure is logged and leaves the image as it was.
func (a *Appliance) refreshBootenvs(ctx context.Context) {
	busybox, zonecfg, err := a.bootenv.tools()
	agent, _ := a.bootenv.agentProgram() // read once: 12 MB
	for _, img := range a.reg.Snapshot().Images() {
		if _, ok := img.Files["kernel-package"]; !ok || img.Bootenv == "" {
			continue
		}
		if err != nil {
			a.log.Warn("diskless boot environments cannot be rebuilt", "image", img.Name, "err", err)
			return
		}
		if strings.Contains(img.Bootenv, "busybox "+short(busybox)) && strings.Contains(img.Bootenv, "zonecfg "+short(zonecfg)) &&
			(agent == nil || strings.Contains(img.Bootenv, "agent "+short(agent))) {
			continue
		}
		next := *img
		next.Files = maps.Clone(img.Files)
		if err := a.bootenv.Prepare(ctx, &next); err != nil {
			a.log.Error("rebuilding a boot environment", "image", img.Name, "err", err)
			continue
		}
		if _, err := a.reg.EditImage(ctx, img.Name, next); err != nil {
			a.log.Error("rebuilding a boot environment", "image", img.Name, "err", err)
			continue
		}
		a.log.Info("boot environment rebuilt: busybox, zonecfg or provision-agent changed", "image", img.Name, "bootenv", next.Bootenv)
	}
}

// ZonecfgPath is the zonecfg boot environments carry: --zonecfg when
// given, else the one next to this program, else the one on PATH.
func ZonecfgPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "zonecfg"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("zonecfg")
	if err != nil {
		return "", fmt.Errorf("no zonecfg next to provision or on PATH (see --zonecfg)")
	}
	return p, nil
}

// agentProgram reads the provision-agent boot environments carry: the
// configured one (which must exist), else the one next to this program,
// else the one on PATH; nil when there is none (then a discovery boot
// fails, saying so). It must be static.
func (b *bootenvBuilder) agentProgram() ([]byte, error) {
	p := b.agent
	if p == "" {
		if exe, err := os.Executable(); err == nil {
			if q := filepath.Join(filepath.Dir(exe), "provision-agent"); fileExists(q) {
				p = q
			}
		}
	}
	if p == "" {
		q, err := exec.LookPath("provision-agent")
		if err != nil {
			return nil, nil
		}
		p = q
	}
	if err := bootenv.Static(p); err != nil {
		return nil, fmt.Errorf("%v: the boot environment needs it static (build it with CGO_ENABLED=0)", err)
	}
	return os.ReadFile(p)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// tools reads busybox and zonecfg, which must both be static: the boot
// environment has no dynamic loader.
func (b *bootenvBuilder) tools() (busybox, zonecfg []byte, err error) {
	zpath, err := ZonecfgPath(b.zonecfg)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range []struct{ path, hint string }{
		{b.busybox, "install Debian's busybox-static"},
		{zpath, "build it with CGO_ENABLED=0"},
	} {
		if err := bootenv.Static(t.path); err != nil {
			return nil, nil, fmt.Errorf("%v: the boot environment needs it static (%s)", err, t.hint)
		}
	}
	if busybox, err = os.ReadFile(b.busybox); err == nil {
		zonecfg, err = os.ReadFile(zpath)
	}
	return busybox, zonecfg, err
}

func short(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}
