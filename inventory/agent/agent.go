package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/inventory"
)

// Config is what Run needs.
type Config struct {
	Server  string // the appliance's base URL: http://10.0.0.1:8080
	MAC     string // the boot MAC (provision.mac=)
	Token   string // the inspection token (provision.inspect=), "" for an unknown machine
	Collect func(ctx context.Context) inventory.Inventory
	Client  *http.Client // nil: a client with a 30 s timeout
	// Power powers the machine off (inventory.ActionPowerOff) or
	// reboots it (inventory.ActionReboot).
	Power func(action string) error
	Log   io.Writer // the console; nil: discarded
	// IPMI opens the BMC in-band (InBand); nil or failing: an enrolment
	// fails and says why.
	IPMI func(ctx context.Context) (BMC, error)
	// Wait sleeps d or until ctx is done (nil: a timer); tests drive it.
	Wait func(ctx context.Context, d time.Duration) error
}

// BMC is what an enrolment does with the machine's BMC.
type BMC interface {
	EnrolUser(ctx context.Context, user, password string) (userID, channel int, err error)
	LAN(ctx context.Context) (*inventory.BMCLAN, error)
	Close() error
}

// Backoff bounds: the first wait after a failed request, and the longest.
const (
	MinBackoff  = time.Second
	MaxBackoff  = 30 * time.Second
	DefaultPoll = 30 * time.Second // an Instruction to wait without Poll
)

// Run collects the inventory, posts it and obeys the appliance until
// it is told to power off or reboot and Power did so (nil), or ctx is
// done (its error).
func Run(ctx context.Context, c Config) error {
	a := &agent{Config: c}
	if a.Client == nil {
		a.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if a.Log == nil {
		a.Log = io.Discard
	}
	if a.Wait == nil {
		a.Wait = sleep
	}
	a.Server = strings.TrimRight(a.Server, "/")
	a.printf("collecting the inventory")
	inv := a.Collect(ctx)
	if inv.MAC == "" {
		inv.MAC = strings.ToLower(a.MAC)
	}
	a.MAC = inv.MAC
	a.printf("%s: %d disks, %d NICs, %d errors; posting it to %s", inv.MAC, len(inv.Disks), len(inv.NICs), len(inv.Errors), a.Server)
	ins, err := a.request(ctx, http.MethodPost, "/discovery/inventory", inventory.Report{Token: a.Token, Inventory: inv})
	for err == nil {
		ins, err = a.obey(ctx, ins)
		if errors.Is(err, errDone) {
			return nil
		}
	}
	return err
}

// errDone ends Run: the machine is powering off or rebooting.
var errDone = errors.New("done")

type agent struct {
	Config
}

// obey does what ins says and returns the appliance's next instruction.
func (a *agent) obey(ctx context.Context, ins inventory.Instruction) (inventory.Instruction, error) {
	if ins.Message != "" {
		a.printf("appliance: %s", textsafe.Strip(ins.Message))
	}
	switch ins.Action {
	case inventory.ActionEnrol:
		return a.request(ctx, http.MethodPost, "/discovery/enrol", a.enrol(ctx, ins.Enrol))
	case inventory.ActionPowerOff, inventory.ActionReboot:
		a.printf("%s", ins.Action)
		err := a.Power(ins.Action)
		if err == nil {
			return ins, errDone
		}
		a.printf("%s: %v", ins.Action, err)
	case inventory.ActionWait:
	default:
		a.printf("unknown instruction %q: waiting", textsafe.Strip(ins.Action))
	}
	poll := time.Duration(ins.Poll) * time.Second
	if poll <= 0 {
		poll = DefaultPoll
	}
	if err := a.Wait(ctx, poll); err != nil {
		return ins, err
	}
	q := url.Values{"mac": {a.MAC}}
	if a.Token != "" {
		q.Set("token", a.Token)
	}
	return a.request(ctx, http.MethodGet, "/discovery/next?"+q.Encode(), nil)
}

// enrol creates the BMC user u in-band and says how it went.
func (a *agent) enrol(ctx context.Context, u *inventory.EnrolUser) inventory.Enrolment {
	e := inventory.Enrolment{MAC: a.MAC, Token: a.Token}
	fail := func(err error) inventory.Enrolment {
		e.Error = err.Error()
		a.printf("BMC enrolment failed: %s", e.Error)
		return e
	}
	switch {
	case u == nil:
		return fail(errors.New("no user to enrol"))
	case a.IPMI == nil:
		return fail(errors.New("no in-band IPMI"))
	}
	a.printf("enrolling BMC user %s", textsafe.Strip(u.User))
	bmc, err := a.IPMI(ctx)
	if err != nil {
		return fail(err)
	}
	defer bmc.Close()
	e.UserID, e.Channel, err = bmc.EnrolUser(ctx, u.User, u.Password)
	if err != nil && !errors.Is(err, ErrSOL) {
		return fail(err)
	}
	e.OK = true
	if err != nil {
		e.Error = err.Error() // the user works without SOL: say so
		a.printf("BMC user %s: %s", textsafe.Strip(u.User), e.Error)
	}
	if e.BMC, err = bmc.LAN(ctx); err != nil {
		a.printf("BMC LAN settings: %v", err)
	}
	a.printf("BMC user %s is slot %d on channel %d", textsafe.Strip(u.User), e.UserID, e.Channel)
	return e
}

// request sends body (JSON, when not nil) to the appliance until it
// answers with an Instruction, waiting longer after each failure.
func (a *agent) request(ctx context.Context, method, path string, body any) (inventory.Instruction, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return inventory.Instruction{}, err
		}
	}
	backoff := MinBackoff
	for {
		ins, err := a.once(ctx, method, path, b)
		if err == nil {
			return ins, nil
		}
		if ctx.Err() != nil {
			return ins, ctx.Err()
		}
		a.printf("%s %s: %v; again in %s", method, a.Server+path, err, backoff)
		if err := a.Wait(ctx, backoff); err != nil {
			return ins, err
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

// once sends one request and reads its Instruction.
func (a *agent) once(ctx context.Context, method, path string, body []byte) (inventory.Instruction, error) {
	var ins inventory.Instruction
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Server+path, r)
	if err != nil {
		return ins, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return ins, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return ins, fmt.Errorf("%s: %s", resp.Status, textsafe.Strip(strings.TrimSpace(string(msg))))
	}
	if err := inventory.Decode(resp.Body, &ins); err != nil {
		return ins, fmt.Errorf("the appliance's instruction: %w", err)
	}
	return ins, nil
}

func (a *agent) printf(format string, args ...any) {
	fmt.Fprintf(a.Log, "provision-agent: "+format+"\n", args...)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
