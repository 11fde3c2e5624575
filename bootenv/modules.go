package bootenv

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// indexModules maps module names to their files under dir
// (lib/modules/VERSION of an unpacked kernel package).
func IndexModules(dir string) (map[string]string, error) {
	idx := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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

// resolveModules returns the modules named and everything they depend on
// (the depends= field of their .modinfo), dependencies first.
func ResolveModules(idx map[string]string, names ...string) ([]Module, error) {
	r := &resolver{idx: idx, state: map[string]int{}}
	for _, n := range names {
		if err := r.visit(strings.ReplaceAll(n, "-", "_")); err != nil {
			return nil, err
		}
	}
	return r.order, nil
}

type resolver struct {
	idx   map[string]string
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
	data, err := readModule(file)
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

// readModule returns a module file's plain ELF bytes, decompressing .gz in
// Go and .xz or .zst with the xz or zstd program.
func readModule(file string) ([]byte, error) {
	switch {
	case strings.HasSuffix(file, ".xz"):
		return decompressWith(file, "xz")
	case strings.HasSuffix(file, ".zst"):
		return decompressWith(file, "zstd")
	case strings.HasSuffix(file, ".gz"):
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return io.ReadAll(z)
	}
	return os.ReadFile(file)
}

func decompressWith(file, prog string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(prog, "-dc", file)
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
