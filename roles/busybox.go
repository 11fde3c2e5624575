package roles

import (
	"archive/tar"
	"bytes"
	"embed"
	"io/fs"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

//go:embed all:lvs/overlay
var lvsFS embed.FS

// LVS is the LVS role's overlay.
func LVS() fs.FS {
	sub, _ := fs.Sub(lvsFS, "lvs/overlay")
	return sub
}

// Markers the busybox root's /sbin/init prints on the console.
const (
	InitMarker = "PROVISION-ROLE-INIT" // followed by " host=NAME"
	CDBMarker  = "PROVISION-ROLE-CDB"  // followed by " absent" or " present" once booted
	UpMarker   = "PROVISION-ROLE-UP"   // the role is up; it then idles
)

// busyboxInit is the busybox root's /sbin/init: the role's whole boot.
const busyboxInit = `#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/lib/provision
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
[ -f /etc/hostname ] && hostname -F /etc/hostname
echo "PROVISION-ROLE-INIT host=$(hostname)"
/usr/lib/provision/boot-hooks run
/usr/lib/provision/boot-hooks up
if [ -e /var/lib/provision/data.cdb ]; then
	echo "PROVISION-ROLE-CDB present"
else
	echo "PROVISION-ROLE-CDB absent"
fi
echo "PROVISION-ROLE-UP"
while :; do sleep 3600; done
`

// BusyboxRootfs returns a gzip-compressed tar root: busybox (static),
// /sbin/init, and the overlay's files with their modes.
func BusyboxRootfs(busybox []byte, overlay fs.FS) ([]byte, error) {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	tw := tar.NewWriter(z)
	dirs := map[string]bool{}
	dir := func(d string) error {
		var parts []string
		for _, p := range strings.Split(d, "/") {
			parts = append(parts, p)
			name := strings.Join(parts, "/")
			if dirs[name] {
				continue
			}
			dirs[name] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755}); err != nil {
				return err
			}
		}
		return nil
	}
	file := func(name string, mode int64, data []byte) error {
		if err := dir(path.Dir(name)); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "sbin", "dev", "proc", "sys", "run", "tmp", "etc", "var/lib/provision"} {
		if err := dir(d); err != nil {
			return nil, err
		}
	}
	if err := file("bin/busybox", 0o755, busybox); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox", Mode: 0o777}); err != nil {
		return nil, err
	}
	if err := file("sbin/init", 0o755, []byte(busyboxInit)); err != nil {
		return nil, err
	}
	err := fs.WalkDir(overlay, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(overlay, p)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		// embed.FS keeps no modes: hooks are executable by their place.
		if strings.Contains(p, "/boot.d/") || strings.Contains(p, "/up.d/") {
			mode = 0o755
		}
		return file(p, mode, data)
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
