package cobbler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/provision/provision/registry"
)

// imagePlan is the image a distro becomes.
type imagePlan struct {
	label    string // "distro NAME"
	distro   *Distro
	img      registry.Image
	uploads  []Upload
	existing bool     // the registry has it, with the same files (or the distro's are not here)
	missing  []string // why the image is registered without files: "kernel PATH: no such file"
}

// planImages makes each distro an install image of its kernel and initrd.
// A distro whose files are not here (a copy of the collections without
// the distro trees) is an image registered without files, to upload with
// `provision image edit`; one whose files are refused (a path out of the
// root, a link, no regular file, unreadable) is a conflict naming it.
func (p *planner) planImages() {
	for i := range p.c.Distros {
		d := &p.c.Distros[i]
		name, ok := p.objectName(registry.ObjImage, d.Name, d.label())
		if !ok {
			continue
		}
		ip := &imagePlan{label: d.label(), distro: d,
			img: registry.Image{Name: name, Kind: registry.KindInstall, Files: map[string]registry.File{}}}
		p.images[d.Name] = ip
		for _, f := range []struct{ role, path string }{{"kernel", d.Kernel}, {"initrd", d.Initrd}} {
			p.imageFile(ip, f.role, f.path)
		}
		if len(ip.missing) > 0 {
			ip.img.Files, ip.uploads = map[string]registry.File{}, nil
		}
		p.checkExistingImage(ip)
	}
}

// imageFile hashes the distro's file of role into the image, or notes it
// missing, or (refused) makes the distro a conflict.
func (p *planner) imageFile(ip *imagePlan, role, path string) {
	if path == "" {
		ip.missing = append(ip.missing, "the distro names no "+role)
		return
	}
	shown := under(p.opts.Root, path)
	sum, size, err := p.hashFile(path)
	switch {
	case refused(err):
		p.conflict([]string{ip.label}, "%s: %s %s: %v", ip.label, role, shown, readError(err))
	case err != nil:
		ip.missing = append(ip.missing, fmt.Sprintf("%s %s: %s", role, shown, readError(err)))
	default:
		ip.img.Files[role] = registry.File{SHA256: sum, Size: size}
		ip.uploads = append(ip.uploads, Upload{Image: ip.img.Name, Role: role, Path: shown, SHA256: sum, Size: size})
	}
}

// checkExistingImage: an image of the registry with the same name is
// this one when its files are the distro's, or when the distro's are not
// here (it is kept as it is: its files may have been uploaded since); an
// image awaiting its files gets the distro's. Anything else is a conflict.
func (p *planner) checkExistingImage(ip *imagePlan) {
	old, ok := p.reg.images[ip.img.Name]
	if !ok || p.isBlocked(ip.label) {
		return
	}
	switch {
	case old.Kind != ip.img.Kind:
		p.conflict([]string{ip.label}, "image %s (from %s) is already in the registry, a %s image", ip.img.Name, ip.label, old.Kind)
	case len(ip.missing) > 0:
		ip.img, ip.missing, ip.existing = *old, nil, true
	case sameFiles(old.Files, ip.img.Files):
		ip.existing = true
	case len(old.Files) > 0:
		p.conflict([]string{ip.label}, "image %s (from %s) is already in the registry, with other files", ip.img.Name, ip.label)
	}
}

// withoutFiles says what an operator does about an image registered
// without files.
func (ip *imagePlan) withoutFiles() string {
	n := ip.img.Name
	return fmt.Sprintf("image %s: registered without files (%s): upload them with `provision image edit %s --kernel FILE --initrd FILE`",
		n, strings.Join(ip.missing, "; "), n)
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
