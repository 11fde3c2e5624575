package bootenv

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/provision/provision/internal/confine"
)

// Kernel is what a boot environment takes from a Debian kernel package.
type Kernel struct {
	Version string   // the modules directory's name: 6.1.0-28-amd64
	Vmlinuz []byte   // boot/vmlinuz-VERSION
	Modules []Module // NICModules and StorageModules it has, and those asked for, with their dependencies, in load order
}

// lastLine is the last line of a program's error output.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// IsDeb reports whether file is a Debian package: an ar archive whose
// first member is debian-binary (a kernel given where its package is
// meant, say).
func IsDeb(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 21)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "!<arch>\ndebian-binary"
}

// FromPackage unpacks a Debian kernel package (linux-image-*.deb) with
// dpkg-deb into a scratch directory under tmp, removed afterwards, and
// returns its kernel and the boot environment's modules: the NICModules
// and StorageModules it has, and need (DeployModules, for a disk image),
// each of which must be a module of the package or built in.
func FromPackage(deb, tmp string, need ...string) (*Kernel, error) {
	scratch, err := os.MkdirTemp(tmp, "kernel-")
	if err != nil {
		return nil, fmt.Errorf("bootenv: %w", err)
	}
	defer os.RemoveAll(scratch)
	var stderr bytes.Buffer
	cmd := exec.Command("dpkg-deb", "-x", deb, scratch)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("not a Debian package: dpkg-deb -x: %v: %s", err, lastLine(stderr.Bytes()))
	}
	k, err := FromTree(scratch, need...)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// FromTree is FromPackage on an unpacked kernel package. Its files are
// read inside tree only: a member that is a symbolic link (boot/vmlinuz
// pointing at /proc/self/environ, say) or anything but a regular file is
// refused, and the error names it.
func FromTree(tree string, need ...string) (*Kernel, error) {
	root, err := os.OpenRoot(tree)
	if err != nil {
		return nil, fmt.Errorf("kernel package: %w", err)
	}
	defer root.Close()
	pkg := root.FS()
	// Debian 12 puts modules in /lib/modules, Debian 13 in /usr/lib/modules.
	mods, _ := fs.Glob(pkg, "lib/modules/*")
	if len(mods) == 0 {
		mods, _ = fs.Glob(pkg, "usr/lib/modules/*")
	}
	if len(mods) != 1 {
		return nil, fmt.Errorf("want one lib/modules/VERSION directory, found %d: is it a linux-image package?", len(mods))
	}
	k := &Kernel{Version: path.Base(mods[0])}
	member := "boot/vmlinuz-" + k.Version
	if k.Vmlinuz, err = confine.ReadFile(root, member); err != nil {
		return nil, fmt.Errorf("no kernel: member %s: %w", member, err)
	}
	idx, err := indexModules(pkg, mods[0])
	if err != nil {
		return nil, err
	}
	var want []string
	for _, n := range append(append([]string{}, NICModules...), StorageModules...) {
		if _, ok := idx[n]; ok {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("kernel %s has none of the NIC drivers %s as modules", k.Version, strings.Join(NICModules, ", "))
	}
	for _, n := range IPMIModules {
		if _, ok := idx[n]; ok {
			want = append(want, n)
		}
	}
	builtin := builtinModules(root, mods[0])
	for _, n := range need {
		switch _, ok := idx[n]; {
		case ok:
			want = append(want, n)
		case !builtin[n]:
			return nil, fmt.Errorf("kernel %s: module %s is neither in the package nor built in (modules.builtin)", k.Version, n)
		}
	}
	read := func(member string) ([]byte, error) { return confine.ReadFile(root, member) }
	if k.Modules, err = resolveModules(idx, read, want...); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	return k, nil
}

// builtinModules reads dir/modules.builtin of the package: the modules
// built into its kernel, one path a line (kernel/fs/ext4/ext4.ko).
func builtinModules(root *os.Root, dir string) map[string]bool {
	out := map[string]bool{}
	b, err := confine.ReadFile(root, path.Join(dir, "modules.builtin"))
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(b), "\n") {
		if n, ok := moduleName(strings.TrimSpace(l)); ok {
			out[n] = true
		}
	}
	return out
}

// Static fails for an ELF program that needs a dynamic loader: the boot
// environment has none (Extra brings one only for zstd).
func Static(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", file)
		}
	}
	return nil
}

// Program returns a dynamically linked program and the shared libraries
// ldd says it loads, by absolute path, for Config.Extra.
func Program(file string) (map[string][]byte, error) {
	out := map[string][]byte{}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("bootenv: %w", err)
	}
	out[file] = data
	var stderr bytes.Buffer
	cmd := exec.Command("ldd", file)
	cmd.Stderr = &stderr
	list, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bootenv: ldd %s: %v: %s", file, err, bytes.TrimSpace(stderr.Bytes()))
	}
	for _, l := range strings.Split(string(list), "\n") {
		// "libzstd.so.1 => /lib/x86_64-linux-gnu/libzstd.so.1 (0x...)" or
		// "/lib64/ld-linux-x86-64.so.2 (0x...)"; vdso has no file.
		f := strings.Fields(l)
		var lib string
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			lib = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			lib = f[0]
		default:
			continue
		}
		b, err := os.ReadFile(lib)
		if err != nil {
			return nil, fmt.Errorf("bootenv: %s needs %s: %w", file, lib, err)
		}
		out[lib] = b
	}
	return out, nil
}
