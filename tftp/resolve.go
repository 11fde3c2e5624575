package tftp

import (
	"fmt"
	"io/fs"
	"net"
	"path"
	"path/filepath"
	"strings"
)

// content is what a requested name stands for: a file under the root, or a
// config generated for one host (or for no host: a fallback).
type content struct {
	file string           // root-relative path of a static file; "" if generated
	data []byte           // the generated config
	mac  net.HardwareAddr // the host of a per-host config
	// image and role name an image's file (Config.Images), when set.
	image, role string
}

// Names of generated files, by their last path element.
const (
	pxelinuxDir     = "pxelinux.cfg" // PXELINUX config directory
	pxelinuxDefault = "default"      // PXELINUX's last candidate
	grubConfig      = "grub.cfg"     // GRUB's last candidate
	macPrefix       = "01-"          // ARP hardware type 1, Ethernet
	imagesDir       = "images"       // images/IMAGE/{kernel,initrd}
)

// resolve maps a requested name to its content. It touches no file: a static
// file is only named here, and opened by the caller through an os.Root.
// Errors wrap fs.ErrPermission (refused name) or fs.ErrNotExist.
func (s *Server) resolve(name string) (content, error) {
	rel, err := cleanName(name)
	if err != nil {
		return content{}, err
	}
	dir, base := path.Split(rel)
	if image, ok := imageDir(dir); ok && (base == "kernel" || base == "initrd") {
		return content{image: image, role: base}, nil
	}
	switch {
	case path.Base(dir) == pxelinuxDir && base == pxelinuxDefault:
		return s.generate(pxelinuxTemplate, nil)
	case path.Base(dir) == pxelinuxDir && strings.HasPrefix(base, macPrefix):
		return s.perHost(pxelinuxTemplate, rel, base[len(macPrefix):])
	case base == grubConfig:
		return s.generate(grubFallbackTemplate, nil)
	case strings.HasPrefix(base, grubConfig+"-"+macPrefix):
		return s.perHost(grubTemplate, rel, base[len(grubConfig+"-"+macPrefix):])
	}
	return content{file: rel}, nil
}

// imageDir reports whether dir is "images/NAME/" (at the root, since
// GRUB's names are absolute), and returns NAME.
func imageDir(dir string) (string, bool) {
	name, ok := strings.CutPrefix(dir, imagesDir+"/")
	name, ok2 := strings.CutSuffix(name, "/")
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// perHost renders the config of the host whose MAC is written in the name as
// "aa-bb-cc-dd-ee-ff"; a malformed or unknown MAC is "file not found".
func (s *Server) perHost(tmpl, rel, hexMAC string) (content, error) {
	mac, err := net.ParseMAC(hexMAC)
	if err != nil || len(mac) != 6 || strings.Count(hexMAC, "-") != 5 {
		return content{}, fmt.Errorf("%s: no such MAC: %w", rel, fs.ErrNotExist)
	}
	host, ok := s.hosts.BootConfigByMAC(mac)
	if !ok {
		return content{}, fmt.Errorf("%s: unknown MAC %s: %w", rel, mac, fs.ErrNotExist)
	}
	c, err := s.generate(tmpl, &hostData{BootConfig: host, MAC: mac.String()})
	c.mac = mac
	return c, err
}

func (s *Server) generate(tmpl string, host *hostData) (content, error) {
	data, err := render(tmpl, host)
	if err != nil {
		return content{}, err
	}
	return content{data: data}, nil
}

// cleanName turns a name from the wire into a local path under the root:
// "\" is read as "/", leading slashes are dropped (GRUB sends "/grub/..."),
// and a ".." element or a NUL byte refuses the whole name.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("name %q has a NUL byte: %w", name, fs.ErrPermission)
	}
	rel := strings.TrimLeft(strings.ReplaceAll(name, `\`, "/"), "/")
	for elem := range strings.SplitSeq(rel, "/") {
		if elem == ".." {
			return "", fmt.Errorf("name %q leaves the root: %w", name, fs.ErrPermission)
		}
	}
	rel = path.Clean(rel)
	if rel == "." {
		return "", fmt.Errorf("name %q is the root: %w", name, fs.ErrNotExist)
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("name %q is not local: %w", name, fs.ErrPermission)
	}
	return rel, nil
}
