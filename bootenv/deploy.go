package bootenv

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// DeployTool is a program a disk image's deployer runs, where the boot
// environment has it, and the Debian package that has it.
type DeployTool struct {
	Name, Dir, Package string
}

// DeployTools are the programs the boot environment of a disk image
// carries from the appliance's own machine, with the libraries they link
// (Program): real partitioning, filesystem and RAID tools, and zstd for
// the rootfs.
var DeployTools = []DeployTool{
	{"sfdisk", "/usr/sbin", "fdisk"},
	{"wipefs", "/usr/sbin", "util-linux"},
	{"blkid", "/usr/sbin", "util-linux"},
	{"blockdev", "/usr/sbin", "util-linux"},
	{"mkfs.ext4", "/usr/sbin", "e2fsprogs"}, // mke2fs, which reads argv[0] for the type
	{"mkfs.vfat", "/usr/sbin", "dosfstools"},
	{"mdadm", "/usr/sbin", "mdadm"},
	{"zstd", "/usr/bin", "zstd"},
}

// DeployModules are the modules a deploy needs beyond NICModules and
// StorageModules: the root's and the ESP's filesystems (ext4, with the
// crc32c its metadata checksums need, which the kernel asks the crypto
// API for by name, so no dependency brings it; vfat with its default code
// page, 437, and I/O character set: ascii in Debian's kernels, iso8859-1
// in the kernel's own default), RAID1, and efivarfs for the UEFI boot
// entry. Each must be a module of the kernel package or built in.
var DeployModules = []string{"crc32c_generic", "ext4", "vfat", "nls_cp437", "nls_ascii", "nls_iso8859_1", "raid1", "md_mod", "efivarfs"}

// mke2fsConf is mke2fs's configuration: its defaults for ext4 come from it.
const mke2fsConf = "/etc/mke2fs.conf"

// toolDirs are where DeployTools are looked for on this machine, whatever
// PATH the appliance runs with.
var toolDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// DeployExtra returns DeployTools, read from this machine, for
// Config.Extra: each at DIR/NAME with the libraries it links, and
// /etc/mke2fs.conf when this machine has one. A tool that is missing is
// an error naming the Debian package to install.
func DeployExtra() (map[string][]byte, error) { return deployExtra(DeployTools) }

func deployExtra(tools []DeployTool) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, t := range tools {
		file := findTool(t.Name)
		if file == "" {
			return nil, fmt.Errorf("bootenv: a disk image's deployer needs %s, not found in %v on this machine (install Debian package %s)", t.Name, toolDirs, t.Package)
		}
		files, err := Program(file)
		if err != nil {
			return nil, err
		}
		for p, b := range files {
			if p == file {
				p = path.Join(t.Dir, t.Name)
			}
			out[p] = b
		}
	}
	if b, err := os.ReadFile(mke2fsConf); err == nil {
		out[mke2fsConf] = b
	}
	return out, nil
}

// findTool returns the program name in toolDirs, or "".
func findTool(name string) string {
	for _, d := range toolDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
