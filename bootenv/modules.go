package bootenv

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// moduleName returns the module name of a module file ("e1000" for
// e1000.ko.xz), with '-' folded to '_' as the kernel does, and false for a
// file that is no module.
func moduleName(file string) (string, bool) {
	base := filepath.Base(file)
	// Plain or compressed: Debian 12 ships plain .ko, Debian 13 .ko.xz.
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if n, ok := strings.CutSuffix(base, s); ok && n != "" {
			return strings.ReplaceAll(n, "-", "_"), true
		}
	}
	return "", false
}

// IndexModules maps module names to their files under dir
// (lib/modules/VERSION of an unpacked kernel package). Only regular files
// count: a symbolic link, even to a module, is no module.
func IndexModules(dir string) (map[string]string, error) {
	idx, err := indexModules(os.DirFS(dir), ".")
	for n, p := range idx {
		idx[n] = filepath.Join(dir, p)
	}
	return idx, err
}

// indexModules is IndexModules on the directory dir of fsys; the files
// are named as fsys names them.
func indexModules(fsys fs.FS, dir string) (map[string]string, error) {
	idx := map[string]string{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name, ok := moduleName(p); ok && d.Type().IsRegular() {
			idx[name] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index modules: %w", err)
	}
	return idx, nil
}

// Module is one module of a load order: its name and its plain ELF bytes.
type Module struct {
	Name string
	Data []byte
}

// ResolveModules returns the modules named and everything they depend on
// (the depends= field of their .modinfo), dependencies first. The index
// holds paths, as IndexModules gives them.
func ResolveModules(idx map[string]string, names ...string) ([]Module, error) {
	return resolveModules(idx, os.ReadFile, names...)
}

// resolveModules is ResolveModules reading the index's files with read.
func resolveModules(idx map[string]string, read func(string) ([]byte, error), names ...string) ([]Module, error) {
	r := &resolver{idx: idx, read: read, state: map[string]int{}}
	for _, n := range names {
		if err := r.visit(strings.ReplaceAll(n, "-", "_")); err != nil {
			return nil, err
		}
	}
	return r.order, nil
}

type resolver struct {
	idx   map[string]string
	read  func(string) ([]byte, error)
	state map[string]int // 1 visiting, 2 done
	order []Module
}

func (r *resolver) visit(name string) error {
	switch r.state[name] {
	case 1:
		return fmt.Errorf("module %s: dependency cycle", name)
	case 2:
		return nil
	}
	file, ok := r.idx[name]
	if !ok {
		return fmt.Errorf("module %s: not in the kernel package", name)
	}
	r.state[name] = 1
	raw, err := r.read(file)
	if err != nil {
		return fmt.Errorf("module %s: %w", name, err)
	}
	data, err := decompressModule(file, raw)
	if err != nil {
		return err
	}
	info, err := modinfo(data)
	if err != nil {
		return fmt.Errorf("module %s: %w", name, err)
	}
	for _, dep := range strings.Split(info["depends"], ",") {
		if dep = strings.TrimSpace(dep); dep != "" {
			if err := r.visit(strings.ReplaceAll(dep, "-", "_")); err != nil {
				return fmt.Errorf("%s needs %w", name, err)
			}
		}
	}
	r.state[name] = 2
	r.order = append(r.order, Module{Name: name, Data: data})
	return nil
}

// decompressModule returns a module file's plain ELF bytes, decompressing
// .gz in Go and .xz or .zst with the xz or zstd program (fed on its
// standard input: no program is given a path to open).
func decompressModule(file string, raw []byte) ([]byte, error) {
	switch {
	case strings.HasSuffix(file, ".xz"):
		return decompressWith(file, raw, "xz")
	case strings.HasSuffix(file, ".zst"):
		return decompressWith(file, raw, "zstd")
	case strings.HasSuffix(file, ".gz"):
		z, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return io.ReadAll(z)
	}
	return raw, nil
}

func decompressWith(file string, raw []byte, prog string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(prog, "-dc")
	cmd.Stdin = bytes.NewReader(raw)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w: %s", prog, file, err, stderr.Bytes())
	}
	return out, nil
}

// modinfo parses the .modinfo section of a module: NUL-separated key=value
// strings (the same text modinfo(8) prints). A repeated key keeps its first
// value.
func modinfo(ko []byte) (map[string]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, fmt.Errorf("not an ELF module: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, errors.New("no .modinfo section")
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("read .modinfo: %w", err)
	}
	info := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if _, seen := info[k]; ok && !seen {
			info[k] = v
		}
	}
	return info, nil
}
