package bootenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// kernelMeta is the Debian package whose dependency is the current kernel.
const kernelMeta = "linux-image-amd64"

// CurrentKernelPackage asks apt for linux-image-amd64's kernel package and the
// version apt-get download would fetch.
func CurrentKernelPackage() (pkg, version string, err error) {
	out, err := aptOutput("apt-cache", "depends", kernelMeta)
	if err != nil {
		return "", "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "Depends: "); ok && strings.HasPrefix(p, "linux-image-") {
			pkg = p
			break
		}
	}
	if pkg == "" {
		return "", "", fmt.Errorf("%s depends on no linux-image-* package", kernelMeta)
	}
	out, err = aptOutput("apt-cache", "show", "--no-all-versions", pkg)
	if err != nil {
		return "", "", err
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok {
			return pkg, v, nil
		}
	}
	return "", "", fmt.Errorf("apt-cache show %s: no Version", pkg)
}

// DownloadKernelPackage fetches the current kernel package (see
// CurrentKernelPackage) into dir with apt-get download and returns its path.
func DownloadKernelPackage(dir string) (string, error) {
	pkg, version, err := CurrentKernelPackage()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg+"="+version)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %v: %s", pkg, err, bytes.TrimSpace(stderr.Bytes()))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: got %d .deb files", pkg, len(debs))
	}
	return debs[0], nil
}

func aptOutput(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}
