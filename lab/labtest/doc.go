// Package labtest is the test kit over package lab: the same network
// namespaces, QEMU VMs, simulated BMCs and boot assets, called with a
// testing.TB. Each call makes its resources in a lab.Env of its own whose
// Close is registered with t.Cleanup at that moment, so they are undone in
// the order a test's own cleanups interleave with them, and a failed
// test's log holds what each process printed.
//
// Tests import it under the name lab:
//
//	import lab "github.com/provision/provision/lab/labtest"
//
//	kernel, initrd := lab.Assets(t)
//	n := lab.NewNet(t, "boot")
//	vm := lab.BootVM(t, n, "52:54:00:12:34:56", 5*time.Minute)
//
// An error fails the test (t.Fatal), except a missing prerequisite (a
// lab.MissingError: not root, QEMU not installed, no kernel package):
// the test is skipped with the reason on a developer's machine, and fails
// under CI=true, where a skip would hide a missing install step
// (internal/testenv.Missing).
//
// The types are package lab's (aliases), except Net, which wraps *lab.Net
// so that its methods that make something take the test.
package labtest
