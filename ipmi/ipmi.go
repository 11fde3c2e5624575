package ipmi

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	bmclib "github.com/bmc-toolbox/bmclib/v2"
	"github.com/go-logr/logr"

	"github.com/provision/provision/internal/textsafe"
)

// Providers: how a BMC is spoken to.
const (
	ProviderIPMI    = "ipmi"    // IPMI 2.0 over LAN (lanplus), port 623
	ProviderRedfish = "redfish" // Redfish over HTTPS, port 443
)

// Power actions (SetPower) and states (PowerState).
const (
	On    = "on"
	Off   = "off"   // hard off
	Soft  = "soft"  // ask the OS to shut down (ACPI)
	Cycle = "cycle" // off, then on
	Reset = "reset" // warm reset
)

// Actions lists the power actions.
var Actions = []string{On, Off, Soft, Cycle, Reset}

// Boot devices (SetBootDevice).
const (
	BootPXE  = "pxe"
	BootDisk = "disk"
)

// BMC is how one system's BMC is reached.
type BMC struct {
	System   string // the system's name, for errors
	Address  string // IP or host name
	Port     int    // 0: the provider's default
	User     string
	Password string
	Provider string // ProviderIPMI (default) or ProviderRedfish
	// Redfish only: how the BMC's certificate is checked. By default it
	// must chain to Controller.RootCAs (the system's CAs when nil) and
	// name Address. Fingerprint pins it instead (the SHA-256 of the
	// certificate, 64 hex digits: a self-signed BMC); Insecure checks
	// nothing, and the password goes to whoever answers.
	Fingerprint string
	Insecure    bool
}

// ErrAuth is the error of a BMC that refused the user or password.
var ErrAuth = errors.New("the BMC refused the user or password")

// Controller calls BMCs. Its zero value is usable.
type Controller struct {
	Timeout  time.Duration  // per call, retries included; default 10 s
	Retries  int            // retries of a transient failure; default 2
	Backoff  time.Duration  // wait before the first retry, doubled after; default 500 ms
	RootCAs  *x509.CertPool // the CAs that sign Redfish BMCs' certificates; nil: the system's
	Ipmitool string         // path of ipmitool; default: found on PATH
}

func (c *Controller) timeout() time.Duration { return or(c.Timeout, 10*time.Second) }

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// PowerState returns "on" or "off".
func (c *Controller) PowerState(ctx context.Context, b BMC) (string, error) {
	var state string
	err := c.do(ctx, b, "power status", func(ctx context.Context, cl *bmclib.Client) error {
		s, err := cl.GetPowerState(ctx)
		state = powerWord(s)
		return err
	})
	return state, err
}

// SetPower runs a power action (On, Off, Soft, Cycle, Reset).
func (c *Controller) SetPower(ctx context.Context, b BMC, action string) error {
	if !slices.Contains(Actions, action) {
		return fmt.Errorf("system %s: power action %q: want one of %s", b.System, action, strings.Join(Actions, ", "))
	}
	return c.do(ctx, b, "power "+action, func(ctx context.Context, cl *bmclib.Client) error {
		ok, err := cl.SetPowerState(ctx, action)
		if err == nil && !ok {
			err = errors.New("the BMC did not confirm it")
		}
		return err
	})
}

// SetBootDevice sets the next boot device (BootPXE or BootDisk), once or
// for good. Many BMCs (OpenIPMI's simulator among them) refuse it: the
// caller logs that and goes on, since the appliance decides network
// boot itself.
func (c *Controller) SetBootDevice(ctx context.Context, b BMC, device string, persistent bool) error {
	if device != BootPXE && device != BootDisk {
		return fmt.Errorf("system %s: boot device %q: want pxe or disk", b.System, device)
	}
	return c.do(ctx, b, "boot device "+device, func(ctx context.Context, cl *bmclib.Client) error {
		ok, err := cl.SetBootDevice(ctx, device, persistent, false)
		if err == nil && !ok {
			err = errors.New("the BMC did not confirm it")
		}
		return err
	})
}

// powerWord turns a provider's answer ("Chassis Power is on", "On") into
// On or Off; anything else is kept, lower case.
func powerWord(s string) string {
	f := strings.Fields(strings.ToLower(textsafe.Strip(s)))
	if len(f) == 0 {
		return ""
	}
	switch last := f[len(f)-1]; last {
	case On, Off:
		return last
	}
	return strings.Join(f, " ")
}

// do opens a client, runs fn, and retries transient failures until the
// call's deadline. The error names the system, the BMC and what was asked.
func (c *Controller) do(ctx context.Context, b BMC, what string, fn func(context.Context, *bmclib.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	wait := or(c.Backoff, 500*time.Millisecond)
	retries := c.Retries
	if retries == 0 {
		retries = 2
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = c.once(ctx, b, fn); err == nil {
			return nil
		}
		if errors.Is(err, ErrAuth) || attempt >= retries || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil && !errors.Is(err, ErrAuth) {
		err = fmt.Errorf("no answer within %v: %w", c.timeout(), context.DeadlineExceeded)
	}
	return fmt.Errorf("system %s: bmc %s: %s: %w", b.System, b.hostPort(), what, err)
}

func (c *Controller) once(ctx context.Context, b BMC, fn func(context.Context, *bmclib.Client) error) error {
	start := time.Now()
	cl := c.client(b)
	var err error
	// bmclib's Open of its ipmitool provider only runs "chassis power
	// status" to see that the BMC answers: the call itself shows that, at
	// half the cost. Redfish needs Open for its session.
	if b.Provider == ProviderRedfish {
		if err = cl.Open(ctx); err == nil {
			defer cl.Close(context.WithoutCancel(ctx))
		}
	}
	if err == nil {
		err = fn(ctx, cl)
	}
	return classify(err, time.Since(start))
}

// client builds a bmclib client that uses only b's provider.
func (c *Controller) client(b BMC) *bmclib.Client {
	opts := []bmclib.Option{bmclib.WithLogger(logr.Discard()), bmclib.WithPerProviderTimeout(c.timeout())}
	// Cipher suite 3 (the IPMI 2.0 default): without one, ipmitool first
	// asks for the list and waits 10 s on BMCs that do not answer that.
	opts = append(opts, bmclib.WithIpmitoolCipherSuite("3"))
	if c.Ipmitool != "" {
		opts = append(opts, bmclib.WithIpmitoolPath(c.Ipmitool))
	}
	provider := b.Provider
	if provider == ProviderRedfish {
		opts = append(opts, bmclib.WithHTTPClient(c.redfishHTTP(b)))
	}
	if b.Port != 0 {
		port := strconv.Itoa(b.Port)
		if provider == ProviderRedfish {
			opts = append(opts, bmclib.WithRedfishPort(port))
		} else {
			opts = append(opts, bmclib.WithIpmitoolPort(port))
		}
	}
	cl := bmclib.NewClient(b.Address, b.User, b.Password, opts...)
	if provider == ProviderRedfish {
		cl.Registry.Drivers = cl.Registry.For("gofish")
	} else {
		cl.Registry.Drivers = cl.Registry.For("ipmitool")
	}
	return cl
}

// authWithin: a session refused faster than this was refused by a BMC
// that answered, so for its credentials.
const authWithin = 3 * time.Second

// classify marks an authentication failure. ipmitool only says that the
// session could not be established, for a wrong password and for an
// address that does not answer alike; but it says it at once when the BMC
// answered, and only after its retries otherwise. Redfish answers 401.
func classify(err error, took time.Duration) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "401") || strings.Contains(msg, "Unauthorized"):
		return fmt.Errorf("%w (%s)", ErrAuth, firstLine(msg))
	case strings.Contains(msg, "RMCP+ session") && took < authWithin:
		return fmt.Errorf("%w (ipmitool: %s)", ErrAuth, firstLine(msg))
	}
	if strings.Contains(msg, "x509:") || strings.Contains(msg, errPinned) {
		return fmt.Errorf("%s (the BMC's certificate is not trusted: pin it with --bmc-fingerprint, or --bmc-insecure)", firstLine(msg))
	}
	return errors.New(firstLine(msg))
}

// firstLine is the first line of a BMC's error text, without control
// characters: it came from the network and ends up on a terminal.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return textsafe.Strip(s)
}

// hostPort is b's address and port, for messages.
func (b BMC) hostPort() string {
	if b.Port == 0 {
		return b.Address
	}
	return net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
}

// redfishHTTP is the HTTP client of a Redfish call: it checks the BMC's
// certificate as b says (bmclib's own default checks none).
func (c *Controller) redfishHTTP(b BMC) *http.Client {
	tc := &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	switch {
	case b.Fingerprint != "":
		// The pin replaces the chain: a BMC's certificate is self-signed
		// more often than not.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = pinned(b.Fingerprint)
	case b.Insecure:
		tc.InsecureSkipVerify = true
	}
	return &http.Client{Timeout: c.timeout(), Transport: &http.Transport{
		TLSClientConfig: tc, DisableKeepAlives: true, TLSHandshakeTimeout: c.timeout(),
		ResponseHeaderTimeout: c.timeout(),
	}}
}

// errPinned starts the error of a certificate that is not the pinned one.
const errPinned = "certificate fingerprint"

// pinned accepts a connection whose leaf certificate has the SHA-256
// fingerprint want (64 hex digits, any case).
func pinned(want string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no certificate")
		}
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
			return fmt.Errorf("%s sha256:%s is not the pinned sha256:%s", errPinned, got, strings.ToLower(want))
		}
		return nil
	}
}
