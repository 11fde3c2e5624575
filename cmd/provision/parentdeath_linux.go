package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// dieWithParent asks the kernel for SIGTERM when the process that started
// this one exits: the dev server started by "go run" stops when go run is
// killed, instead of holding its ports. It returns false if the parent is
// already gone.
func dieWithParent() bool {
	parent := os.Getppid()
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		return true // not fatal: the server runs on
	}
	return os.Getppid() == parent
}
