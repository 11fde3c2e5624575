package tftp

import (
	"fmt"
	"io/fs"
	"net"
	"net/netip"
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
	grubDir         = "grub"         // GRUB's $prefix in Debian's signed grubnetx64.efi
	macPrefix       = "01-"          // ARP hardware type 1, Ethernet
	imagesDir       = "images"       // images/IMAGE/{kernel,initrd}
)

// resolve maps a requested name to its content. Configs are generated
// only for the names the loaders we hand out ask for (canonical names):
// PXELINUX (lpxelinux.0, syslinux.efi, from the root) asks for
// pxelinux.cfg/..., GRUB for $prefix/grub.cfg... with $prefix /grub,
// each with at most one leading "/", and the MAC in lower-case hex as
// both write it. Any other spelling is a plain file name, so the name on a
// host's timeline is always one of these. It touches no file: a static
// file is only named here, and opened by the caller through an os.Root.
// client, the requester's address, is handed to Hosts for a per-host
// config. Errors wrap fs.ErrPermission (refused name) or fs.ErrNotExist.
func (s *Server) resolve(name string, client netip.Addr) (content, error) {
	rel, err := cleanName(name)
	if err != nil {
		return content{}, err
	}
	dir, base := path.Split(rel)
	if image, ok := imageDir(dir); ok && (base == "kernel" || base == "initrd") {
		return content{image: image, role: base}, nil
	}
	canon := strings.TrimPrefix(name, "/")
	switch {
	case canon == pxelinuxDir+"/"+pxelinuxDefault:
		return s.generate(pxelinuxTemplate, nil)
	case strings.HasPrefix(canon, pxelinuxDir+"/"+macPrefix):
		return s.perHost(pxelinuxTemplate, rel, canon[len(pxelinuxDir+"/"+macPrefix):], client)
	case canon == grubConfig || canon == grubDir+"/"+grubConfig:
		return s.generate(grubFallbackTemplate, nil)
	case strings.HasPrefix(canon, grubConfig+"-"+macPrefix):
		return s.perHost(grubTemplate, rel, canon[len(grubConfig+"-"+macPrefix):], client)
	case strings.HasPrefix(canon, grubDir+"/"+grubConfig+"-"+macPrefix):
		return s.perHost(grubTemplate, rel, canon[len(grubDir+"/"+grubConfig+"-"+macPrefix):], client)
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
// "aa-bb-cc-dd-ee-ff"; a malformed, upper-case or unknown MAC is "file not
// found".
func (s *Server) perHost(tmpl, rel, hexMAC string, client netip.Addr) (content, error) {
	mac, err := net.ParseMAC(hexMAC)
	if err != nil || len(mac) != 6 || strings.ReplaceAll(mac.String(), ":", "-") != hexMAC {
		return content{}, fmt.Errorf("%s: no such MAC: %w", rel, fs.ErrNotExist)
	}
	host, ok := s.hosts.BootConfigByMAC(mac, client)
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
