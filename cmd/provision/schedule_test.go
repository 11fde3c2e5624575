package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The package's tests run side by side, and this file decides in which
// order. go test hands out its -parallel slots in no particular order, so
// scripts/test gives it more slots than there are tests and each test
// takes one of ours instead (`defer parallel(t)()`, its first line):
// the ones that took longest in CI first (a VM that installs Debian takes
// ten minutes, most tests a second or two), so that the run does not end
// with one long VM going alone on two cores while everything else is done.
//
// A test holds its slot until its function returns: a parent's parallel
// subtests, which start only then, take slots of their own. TestMain's
// image builds take slots too, before any test: the deploy VMs, the
// longest, wait for them, and without slots of their own they were
// starved by the tests running meanwhile. A test that waits for one
// waits without a slot (parallelAfter).
//
// While the file PROVISION_TEST_HOLD names exists, only the builds get
// slots: scripts/test starts this package beside the packages that
// measure under load, so that the builds use what CPU those leave idle,
// and removes the file when they are done.

// slots is how many tests run at once: PROVISION_TEST_SLOTS, else 3 (two
// cores, and a VM under TCG waits about as often as it computes).
var slots = func() int {
	if n, err := strconv.Atoi(os.Getenv("PROVISION_TEST_SLOTS")); err == nil && n > 0 {
		return n
	}
	return 3
}()

// longest gives the tests that took longest, in seconds (CI at 8c3ff40,
// three at a time); the order matters, not the figures. A parent counts
// its parallel subtests: they can start only after it. Every test not
// named here comes after these, in the order it asked.
var longest = map[string]int{
	// TestMain's image builds: minutes of mmdebstrap that the longest
	// VMs wait for, so first and with slots of their own.
	buildDiskImage:                          2000,
	buildRole:                               1900,
	"TestVMDeploy":                          650, // setup, then raid1 (574 s) at the earliest
	"TestVMDeploy/raid1":                    574,
	"TestVMDeploy/discovery":                465,
	"TestVMDeploy/uefi":                     365,
	"TestVMDeploy/bios":                     288,
	"TestVMDebianInstallerThroughCache":     284,
	"TestVMDisklessDebianRole":              234,
	"TestDemoOnce":                          126,
	"TestMirrorDebootstrapThroughCache":     121,
	"TestVMDeploy/fail-badsum":              90,
	"TestVMInstallLifecycle":                80,
	"TestVMRemoteReinstallThroughIPMI":      70,
	"TestDemoInterrupted":                   72,
	"TestVMInstallLifecycle/hang":           63,
	"TestVMDisklessRole":                    60,
	"TestVMDisklessRole/badsum":             48,
	"TestVMRemoteReinstallThroughIPMI/hang": 47,
	"TestPairFaults":                        41,
	"TestVMDisklessRole/nocdb":              40,
	"TestVMConsole":                         40,
	"TestVMDisklessRole/cut":                37,
	"TestKillKeepsDataCDBRight":             36,
	"TestVMRemoteReinstallThroughIPMI/ok":   35,
	"TestVMInstallLifecycle/fail":           31,
	"TestVMUEFIHTTPBoot":                    29,
	"TestVMUEFIPXE":                         29,
	"TestTwoAppliancesOneSegment":           29,
	"TestVMDeploy/fail-small":               28,
	"TestPowerVerbsAgainstIPMISim":          25,
	"TestVMPXELinuxUEFI":                    24,
	"TestDashboardConsoleInBrowser":         22,
	"TestVMInstallLifecycle/ok":             20,
	"TestVMDisklessRole/ok":                 21,
	"TestVMProxyDHCP":                       21,
	"TestCLICompletionAndExamples":          20,
	"TestVMDeploy/fail-nodisk":              20,
	"TestVMSecureBoot":                      20,
	"TestVMMasterPair":                      19,
	"TestVMPlainPXEChainLoadsIPXE":          18,
	"TestHookKillDuringBurst":               18,
	"TestVMPXELinuxBIOS":                    17,
}

// idle tests mostly sleep (a receiver down for a minute): they take no slot.
var idle = map[string]bool{"TestHookReceiverDown60s": true}

// alone names the tests that must not run beside each other: both run
// `provision demo`, which has one lab.
var alone = map[string]string{"TestDemoOnce": "demo", "TestDemoInterrupted": "demo"}

// parallel marks t parallel and waits for its slot; the function it
// returns gives the slot back. Use it as `defer parallel(t)()`.
func parallel(t *testing.T) func() {
	return parallelAfter(t, func() {})
}

// parallelAfter is parallel for a test that first waits for something
// built in the background (an image of TestMain's): it waits without a
// slot, then takes one.
func parallelAfter(t *testing.T, wait func()) func() {
	t.Parallel()
	wait()
	if idle[t.Name()] {
		<-sched.released
		return func() {}
	}
	return sched.take(t.Name())
}

// isBuild tells a build's slot from a test's.
func isBuild(name string) bool { return strings.HasPrefix(name, "build: ") }

// The names TestMain's builds take their slots by.
const (
	buildDiskImage = "build: the deploy tests' disk image"
	buildRole      = "build: the Debian LVS role"
)

// inBackground runs f in a goroutine of its own, in a slot named name.
func inBackground(name string, f func()) {
	go func() {
		defer sched.take(name)()
		f()
	}()
}

// sched hands out the slots. The first ones are handed out a moment after
// the first test asks, when all the tests go test released at once have
// asked, so that the longest start first whatever order they came in.
var sched = newScheduler(slots, os.Getenv("PROVISION_TEST_HOLD"))

// newScheduler hands out n slots; while the file hold names exists, only
// to builds.
func newScheduler(n int, hold string) *scheduler {
	s := &scheduler{free: n, groups: map[string]bool{}, released: make(chan struct{})}
	if hold == "" {
		close(s.released)
		return s
	}
	s.hold = true
	go func() {
		for {
			if _, err := os.Stat(hold); errors.Is(err, fs.ErrNotExist) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		s.mu.Lock()
		s.hold = false
		close(s.released)
		s.grant()
		s.mu.Unlock()
	}()
	return s
}

type scheduler struct {
	mu      sync.Mutex
	free    int
	open    bool            // the first moment has passed
	waiting []*waiter       // in the order they asked
	groups  map[string]bool // the alone groups running now
	hold    bool            // only builds get slots (PROVISION_TEST_HOLD)
	// released is closed once the hold is gone (at once without one).
	released chan struct{}
	arrived  int
	held     []held // the slots given back
}

// held is a slot a test or build held: from when, for how long.
type held struct {
	name string
	at   time.Time
	for_ time.Duration
}

// report writes how long the run's slots were held, and the ten held
// longest: the times of the longest tests, without their wait for a slot
// (go test's own figures count it). TestMain prints it after the run.
func (s *scheduler) report(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) == 0 {
		return
	}
	first, last := s.held[0].at, time.Time{}
	var total time.Duration
	for _, h := range s.held {
		if h.at.Before(first) {
			first = h.at
		}
		if end := h.at.Add(h.for_); end.After(last) {
			last = end
		}
		total += h.for_
	}
	fmt.Fprintf(w, "schedule: %d slots held for %.0f s in all over %.0f s, %d slots; the ten held longest:\n",
		len(s.held), total.Seconds(), last.Sub(first).Seconds(), slots)
	byTime := slices.Clone(s.held)
	slices.SortFunc(byTime, func(a, b held) int { return cmp.Compare(b.for_, a.for_) })
	for _, h := range byTime[:min(10, len(byTime))] {
		fmt.Fprintf(w, "  %6.1f s  %s (from %.0f s)\n", h.for_.Seconds(), h.name, h.at.Sub(first).Seconds())
	}
}

type waiter struct {
	name  string
	order int
	ready chan struct{}
}

func (s *scheduler) take(name string) func() {
	w := &waiter{name: name, ready: make(chan struct{})}
	s.mu.Lock()
	w.order = s.arrived
	s.arrived++
	s.waiting = append(s.waiting, w)
	if s.arrived == 1 {
		time.AfterFunc(500*time.Millisecond, func() {
			s.mu.Lock()
			s.open = true
			s.grant()
			s.mu.Unlock()
		})
	}
	s.grant()
	s.mu.Unlock()
	<-w.ready
	got := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.held = append(s.held, held{name, got, time.Since(got)})
			s.free++
			if g := alone[name]; g != "" {
				delete(s.groups, g)
			}
			s.grant()
			s.mu.Unlock()
		})
	}
}

// grant gives free slots to the waiters that took longest in CI, then to
// the others in the order they asked. s.mu is held.
func (s *scheduler) grant() {
	if !s.open {
		return
	}
	slices.SortStableFunc(s.waiting, func(a, b *waiter) int {
		if d := longest[b.name] - longest[a.name]; d != 0 {
			return d
		}
		return a.order - b.order
	})
	for i := 0; i < len(s.waiting) && s.free > 0; {
		w := s.waiting[i]
		if g := alone[w.name]; (g != "" && s.groups[g]) || (s.hold && !isBuild(w.name)) {
			i++
			continue
		}
		if g := alone[w.name]; g != "" {
			s.groups[g] = true
		}
		s.free--
		s.waiting = slices.Delete(s.waiting, i, i+1)
		close(w.ready)
	}
}
