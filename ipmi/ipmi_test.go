package ipmi

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
)

// sim is a simulated BMC with the BMC that reaches it.
type sim struct {
	*lab.BMCSim
	BMC
}

func startSim(t *testing.T, password string) *sim {
	s := lab.StartBMCSim(t, password)
	return &sim{s, BMC{System: "vm1", Address: s.Address, Port: s.Port, User: s.User, Password: password}}
}

func freePort(t *testing.T, network string) int { return lab.FreePort(t, network) }

// waitMachine waits until the stand-in machine runs (or not).
func waitMachine(t *testing.T, s *sim, running bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, ok := s.MachinePID(); ok == running {
			return
		}
	}
	t.Fatalf("the machine behind the BMC is not %s", map[bool]string{true: "running", false: "stopped"}[running])
}

// Our calls and the real ipmitool see the same power state, and power on,
// off and cycle start and stop the machine behind the BMC.
func TestPowerAgainstIPMISim(t *testing.T) {
	s := startSim(t, "s3cret-bmc")
	c := &Controller{Timeout: 10 * time.Second}
	ctx := context.Background()
	check := func(want string) {
		t.Helper()
		got, err := c.PowerState(ctx, s.BMC)
		if err != nil || got != want {
			t.Fatalf("PowerState = %q, %v; want %q", got, err, want)
		}
		out, err := s.IPMItool("chassis", "power", "status")
		if err != nil || out != "Chassis Power is "+want {
			t.Fatalf("ipmitool says %q (%v), we say %q", out, err, want)
		}
	}
	check(Off)
	if err := c.SetPower(ctx, s.BMC, On); err != nil {
		t.Fatal(err)
	}
	waitMachine(t, s, true)
	check(On)
	first, _ := s.MachinePID()
	if err := c.SetPower(ctx, s.BMC, Cycle); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if pid, ok := s.MachinePID(); ok && pid != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("power cycle did not restart the machine")
		}
	}
	check(On)
	if err := c.SetPower(ctx, s.BMC, Off); err != nil {
		t.Fatal(err)
	}
	waitMachine(t, s, false)
	check(Off)
	if err := c.SetPower(ctx, s.BMC, "explode"); err == nil || !strings.Contains(err.Error(), `system vm1: power action "explode"`) {
		t.Fatalf("a bad action: %v", err)
	}
	// The simulator refuses the boot device, as many BMCs do: an error
	// that names the system, not a hang.
	start := time.Now()
	if err := c.SetBootDevice(ctx, s.BMC, BootPXE, false); err == nil || !strings.Contains(err.Error(), "system vm1: bmc 127.0.0.1:") {
		t.Logf("boot device: %v (after %v)", err, time.Since(start))
	}
}

// A wrong password is an authentication error at once, not retried; a BMC
// that does not answer is an error within the timeout; neither holds up
// a call to a healthy BMC made at the same time.
func TestBMCFaults(t *testing.T) {
	s := startSim(t, "right-password")
	c := &Controller{Timeout: 4 * time.Second, Backoff: 200 * time.Millisecond}
	ctx := context.Background()
	wrong := s.BMC
	wrong.Password = "wrong-password"
	start := time.Now()
	_, err := c.PowerState(ctx, wrong)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "system vm1: bmc 127.0.0.1:") || time.Since(start) > 3*time.Second {
		t.Fatalf("wrong password: %v after %v", err, time.Since(start))
	}
	dead := BMC{System: "gone1", Address: "127.0.0.1", Port: freePort(t, "udp"), User: "admin", Password: "x"}
	var wg sync.WaitGroup
	var deadErr, okErr error
	var deadTook, okTook time.Duration
	wg.Add(2)
	go func() {
		defer wg.Done()
		t0 := time.Now()
		_, deadErr = c.PowerState(ctx, dead)
		deadTook = time.Since(t0)
	}()
	go func() {
		defer wg.Done()
		t0 := time.Now()
		_, okErr = c.PowerState(ctx, s.BMC)
		okTook = time.Since(t0)
	}()
	wg.Wait()
	if deadErr == nil || errors.Is(deadErr, ErrAuth) || !strings.Contains(deadErr.Error(), "system gone1") || deadTook > c.Timeout+2*time.Second {
		t.Fatalf("a BMC that does not answer: %v after %v", deadErr, deadTook)
	}
	if okErr != nil || okTook > 2*time.Second {
		t.Fatalf("the healthy BMC meanwhile: %v after %v", okErr, okTook)
	}
}

// The password is never on a command line: while ipmitool runs, no
// process's argv holds it.
func TestPasswordNotInArgv(t *testing.T) {
	const pw = "no-argv-pw-4711" // IPMI passwords are at most 20 bytes
	s := startSim(t, pw)
	c := &Controller{}
	stop := make(chan struct{})
	found := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range procs {
				if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), pw) {
					select {
					case found <- strings.ReplaceAll(string(b), "\x00", " "):
					default:
					}
				}
			}
		}
	}()
	for range 5 {
		if _, err := c.PowerState(context.Background(), s.BMC); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	select {
	case cmd := <-found:
		t.Fatalf("the password is in argv: %s", cmd)
	default:
	}
}

// The poller reads every BMC each round, and reports a state when it
// changes: the first reading, power on, and a BMC that stops answering.
func TestPoller(t *testing.T) {
	s := startSim(t, "poll-pw")
	dead := BMC{System: "gone1", Address: "127.0.0.1", Port: freePort(t, "udp"), User: "admin", Password: "x"}
	c := &Controller{Timeout: 2 * time.Second, Retries: 1}
	var mu sync.Mutex
	var changes []string
	reads := 0
	p := &Poller{Controller: c, BMCs: func() []BMC { return []BMC{s.BMC, dead} },
		Report: func(Reading) { mu.Lock(); reads++; mu.Unlock() },
		Changed: func(r Reading) {
			mu.Lock()
			defer mu.Unlock()
			v := r.State
			if r.Err != nil {
				v = "error"
			}
			changes = append(changes, r.System+"="+v)
		}}
	ctx := context.Background()
	p.Round(ctx)
	p.Round(ctx)
	if err := c.SetPower(ctx, s.BMC, On); err != nil {
		t.Fatal(err)
	}
	p.Round(ctx)
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(changes, " ")
	if reads != 6 || !strings.Contains(got, "vm1=off") || !strings.Contains(got, "gone1=error") ||
		!strings.HasSuffix(got, "vm1=on") || strings.Count(got, "vm1=") != 2 {
		t.Fatalf("%d reads, changes %q", reads, got)
	}
}

// Redfish through bmclib's gofish provider, against a Redfish service in
// the test (Debian packages no Redfish simulator): the power state and
// actions, and a wrong password as an authentication error.
func TestPowerOverRedfish(t *testing.T) {
	rf := lab.StartRedfishBMC(t, "admin", "redfish-pw")
	roots := x509.NewCertPool()
	roots.AddCert(rf.Server.Certificate())
	c := &Controller{Timeout: 10 * time.Second, RootCAs: roots}
	b := BMC{System: "rf1", Address: rf.Address, Port: rf.Port, User: "admin", Password: "redfish-pw", Provider: ProviderRedfish}
	ctx := context.Background()
	if got, err := c.PowerState(ctx, b); err != nil || got != Off {
		t.Fatalf("PowerState = %q, %v", got, err)
	}
	for _, step := range []struct{ action, want string }{{On, "On"}, {Cycle, "On"}, {Off, "Off"}} {
		if err := c.SetPower(ctx, b, step.action); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		if rf.Power() != step.want {
			t.Fatalf("after %s the system is %s", step.action, rf.Power())
		}
	}
	if got := strings.Join(rf.Resets(), ","); got != "On,ForceRestart,ForceOff" {
		t.Fatalf("resets asked: %s", got)
	}
	wrong := b
	wrong.Password = "nope"
	start := time.Now()
	if _, err := c.PowerState(ctx, wrong); !errors.Is(err, ErrAuth) || time.Since(start) > 3*time.Second {
		t.Fatalf("wrong password over Redfish: %v after %v", err, time.Since(start))
	}
}

// TestRedfishChecksCertificates: a Redfish BMC whose certificate is
// self-signed (the test server's) is refused, before any password is
// sent, unless its fingerprint is pinned (then accepted; another
// fingerprint is refused) or the BMC is marked insecure.
func TestRedfishChecksCertificates(t *testing.T) {
	rf := lab.StartRedfishBMC(t, "admin", "redfish-pw")
	sum := sha256.Sum256(rf.Server.Certificate().Raw)
	pin := hex.EncodeToString(sum[:])
	c := &Controller{Timeout: 5 * time.Second, Retries: -1}
	base := BMC{System: "rf1", Address: rf.Address, Port: rf.Port, User: "admin", Password: "redfish-pw", Provider: ProviderRedfish}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(b *BMC)
		ok   bool
	}{
		{"self-signed, not trusted", func(b *BMC) {}, false},
		{"pinned", func(b *BMC) { b.Fingerprint = pin }, true},
		{"pinned, upper case", func(b *BMC) { b.Fingerprint = strings.ToUpper(pin) }, true},
		{"another pin", func(b *BMC) { b.Fingerprint = strings.Repeat("ab", 32) }, false},
		{"insecure", func(b *BMC) { b.Insecure = true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			tc.edit(&b)
			got, err := c.PowerState(ctx, b)
			if tc.ok && (err != nil || got != Off) {
				t.Fatalf("PowerState = %q, %v", got, err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted: %q", got)
				}
				if !strings.Contains(err.Error(), "rf1") || !strings.Contains(err.Error(), "--bmc-fingerprint") {
					t.Errorf("the error names neither the system nor the way out: %v", err)
				}
			}
		})
	}
	if n := rf.Logins(); n != 3 {
		t.Errorf("%d logins reached the BMC, want 3 (a refused certificate sends no password)", n)
	}
}

// TestBMCTextIsStripped: what a BMC answers (an error's text, a power
// state word) reaches the operator without control characters.
func TestBMCTextIsStripped(t *testing.T) {
	err := classify(errors.New("bmc says \x1b]0;owned\x07\x1b[2Jno\nsecond line"), 5*time.Second)
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07\n") || !strings.Contains(err.Error(), "bmc says") {
		t.Errorf("classify: %q", err)
	}
	if got := powerWord("Chassis Power is \x1b[31mweird\x9b"); strings.IndexByte(got, 0x1b) >= 0 || strings.IndexByte(got, 0x9b) >= 0 {
		t.Errorf("powerWord: %q", got)
	}
}
