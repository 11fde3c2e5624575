package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// ErrMissing is matched (errors.Is) by every error that reports a missing
// prerequisite, a *MissingError.
var ErrMissing = errors.New("prerequisite missing")

// MissingError is a prerequisite the lab lacks: a program or package that
// is not installed, root, a kernel package apt cannot fetch.
type MissingError struct {
	Reason string // what is missing: "qemu-system-x86_64 is not installed"
	Fix    string // what provides it: "apt-get install qemu-system-x86"
}

func (e *MissingError) Error() string {
	if e.Fix == "" {
		return "lab: " + e.Reason
	}
	return "lab: " + e.Reason + " (" + e.Fix + ")"
}

// Is makes errors.Is(err, ErrMissing) hold.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// needCommand returns the path of the named program, or a *MissingError
// that names pkg, the Debian package that installs it.
func needCommand(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", &MissingError{Reason: name + " is not installed", Fix: "apt-get install " + pkg}
	}
	return p, nil
}

// needRoot fails unless the process runs as root (network namespaces,
// taps, privileged ports).
func needRoot() error {
	if os.Geteuid() != 0 {
		return &MissingError{Reason: "needs root", Fix: "run as root: it makes network namespaces, a bridge and taps"}
	}
	return nil
}

// needFile fails unless path exists; pkg is the package that installs it.
func needFile(path, pkg string) error {
	if _, err := os.Stat(path); err != nil {
		return &MissingError{Reason: fmt.Sprintf("%s is not installed: %v", pkg, err), Fix: "apt-get install " + pkg}
	}
	return nil
}
