package cobbler

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"

	"github.com/provision/provision/registry"
)

// imagePlan is the image a distro becomes.
type imagePlan struct {
	label    string // "distro NAME"
	distro   *Distro
	img      registry.Image
	uploads  []Upload
	existing bool // the registry has it, with the same files
}

// planImages makes each distro an install image of its kernel and initrd.
// A distro whose files cannot be read is a conflict naming the path.
func (p *planner) planImages() {
	for i := range p.c.Distros {
		d := &p.c.Distros[i]
		ip := &imagePlan{label: d.label(), distro: d}
		name, ok := p.objectName(registry.ObjImage, d.Name, d.label())
		if !ok {
			continue
		}
		p.images[d.Name] = ip
		ip.img = registry.Image{Name: name, Kind: registry.KindInstall, Files: map[string]registry.File{}}
		for _, f := range []struct{ role, path string }{{"kernel", d.Kernel}, {"initrd", d.Initrd}} {
			if f.path == "" {
				p.conflict([]string{d.label()}, "%s has no %s", d.label(), f.role)
				continue
			}
			path := under(p.opts.Root, f.path)
			sum, size, err := p.hashFile(f.path)
			if err != nil {
				p.conflict([]string{d.label()}, "%s: %s %s: %v", d.label(), f.role, path, readError(err))
				continue
			}
			ip.img.Files[f.role] = registry.File{SHA256: sum, Size: size}
			ip.uploads = append(ip.uploads, Upload{Image: name, Role: f.role, Path: path, SHA256: sum, Size: size})
		}
		if old, ok := p.reg.images[name]; ok && !p.isBlocked(d.label()) {
			if old.Kind == ip.img.Kind && sameFiles(old.Files, ip.img.Files) {
				ip.existing = true
			} else {
				p.conflict([]string{d.label()}, "image %s (from %s) is already in the registry, with other files", name, d.label())
			}
		}
	}
}

// hostPath is where a path of the Cobbler server is here: under Root.
func (p *planner) hostPath(path string) string {
	if p.opts.Root == "" {
		return path
	}
	return filepath.Join(p.opts.Root, path)
}

// hashFile returns the sha256 and size of a regular file the Cobbler
// server names, read inside Root when it is given.
func (p *planner) hashFile(path string) (string, int64, error) {
	f, err := p.files.open(p.opts.Root, path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func sameFiles(a, b map[string]registry.File) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
