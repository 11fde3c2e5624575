package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/inventory"
)

// appliance is the appliance's side of the conversation, as a test
// scripts it: each request gets the next answer, and is recorded.
type appliance struct {
	t       *testing.T
	mu      sync.Mutex
	answers []answer
	got     []request
}

type answer struct {
	status int
	ins    inventory.Instruction
}

type request struct {
	Method, Path string
	Body         string
}

func (a *appliance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var body strings.Builder
	if r.Body != nil {
		fmt.Fprint(&body, readAll(r))
	}
	a.got = append(a.got, request{r.Method, r.URL.RequestURI(), body.String()})
	if len(a.answers) == 0 {
		a.t.Errorf("an unexpected request: %s %s", r.Method, r.URL)
		http.Error(w, "no more answers", http.StatusTeapot)
		return
	}
	ans := a.answers[0]
	a.answers = a.answers[1:]
	if ans.status != 0 {
		http.Error(w, "down for maintenance", ans.status)
		return
	}
	json.NewEncoder(w).Encode(ans.ins)
}

func readAll(r *http.Request) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func (a *appliance) requests() []request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]request(nil), a.got...)
}

// harness runs Run against an appliance with a driven clock.
type harness struct {
	app    *appliance
	cfg    Config
	log    testenv.Buffer
	waits  []time.Duration
	powers []string
}

func newHarness(t *testing.T, answers ...answer) *harness {
	h := &harness{app: &appliance{t: t, answers: answers}}
	srv := httptest.NewServer(h.app)
	t.Cleanup(srv.Close)
	h.cfg = Config{
		Server: srv.URL + "/",
		MAC:    "52:54:00:12:34:56",
		Collect: func(context.Context) inventory.Inventory {
			return inventory.Inventory{BootMode: inventory.BootBIOS, DMI: inventory.DMI{Serial: "S1"}}
		},
		Power: func(action string) error { h.powers = append(h.powers, action); return nil },
		Log:   &h.log,
		Wait:  func(_ context.Context, d time.Duration) error { h.waits = append(h.waits, d); return nil },
	}
	return h
}

func ok(action string, poll int) answer {
	return answer{ins: inventory.Instruction{Action: action, Poll: poll}}
}

// TestRunPowersOff: the inventory is posted with the boot MAC and the
// token, and a poweroff calls Power and ends Run.
func TestRunPowersOff(t *testing.T) {
	h := newHarness(t, ok(inventory.ActionPowerOff, 0))
	h.cfg.Token = "tok"
	if err := Run(context.Background(), h.cfg); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{inventory.ActionPowerOff}, h.powers); d != "" {
		t.Errorf("Power calls (-want +got):\n%s", d)
	}
	got := h.app.requests()
	if len(got) != 1 || got[0].Method != http.MethodPost || got[0].Path != "/discovery/inventory" {
		t.Fatalf("requests: %+v", got)
	}
	var rep inventory.Report
	if err := json.Unmarshal([]byte(got[0].Body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Token != "tok" || rep.Inventory.MAC != "52:54:00:12:34:56" || rep.Inventory.DMI.Serial != "S1" {
		t.Errorf("report: %+v", rep)
	}
}

// TestRunWaits: wait asks /discovery/next after Poll seconds (30 s when
// none is given), with the MAC and the token; an unknown action waits
// too; a reboot ends it.
func TestRunWaits(t *testing.T) {
	h := newHarness(t, ok(inventory.ActionWait, 5), ok(inventory.ActionWait, 0), ok("dance", 7), ok(inventory.ActionReboot, 0))
	h.cfg.Token = "a b"
	if err := Run(context.Background(), h.cfg); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]time.Duration{5 * time.Second, DefaultPoll, 7 * time.Second}, h.waits); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	var paths []string
	for _, r := range h.app.requests()[1:] {
		paths = append(paths, r.Method+" "+r.Path)
	}
	next := "GET /discovery/next?mac=52%3A54%3A00%3A12%3A34%3A56&token=a+b"
	if d := cmp.Diff([]string{next, next, next}, paths); d != "" {
		t.Errorf("requests after the report (-want +got):\n%s", d)
	}
	if !strings.Contains(h.log.String(), `unknown instruction "dance"`) {
		t.Errorf("the console does not say the action was unknown:\n%s", h.log.String())
	}
	if d := cmp.Diff([]string{inventory.ActionReboot}, h.powers); d != "" {
		t.Errorf("Power calls (-want +got):\n%s", d)
	}
}

// TestRunRetries: 5xx answers are retried with a doubling backoff, and
// the same report is posted again.
func TestRunRetries(t *testing.T) {
	h := newHarness(t, answer{status: 503}, answer{status: 500}, answer{status: 502}, ok(inventory.ActionPowerOff, 0))
	if err := Run(context.Background(), h.cfg); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, h.waits); d != "" {
		t.Errorf("backoff (-want +got):\n%s", d)
	}
	got := h.app.requests()
	if len(got) != 4 || got[0] != got[3] {
		t.Errorf("want the same report 4 times: %+v", got)
	}
	if !strings.Contains(h.log.String(), "503 Service Unavailable: down for maintenance") {
		t.Errorf("the console does not say why:\n%s", h.log.String())
	}
}

// TestRunUnreachable: an appliance that cannot be reached is asked
// again and again (the backoff capped), until the context ends Run.
func TestRunUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h := newHarness(t)
	h.cfg.Server = "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	h.cfg.Wait = func(_ context.Context, d time.Duration) error {
		h.waits = append(h.waits, d)
		if len(h.waits) == 8 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	if err := Run(ctx, h.cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if d := cmp.Diff(want, h.waits); d != "" {
		t.Errorf("backoff (-want +got):\n%s", d)
	}
}

// fakeBMC is a BMC whose enrolment fails with err.
type fakeBMC struct {
	err    error
	closed bool
}

func (b *fakeBMC) EnrolUser(_ context.Context, user, password string) (int, int, error) {
	return 3, 1, b.err
}

func (b *fakeBMC) LAN(context.Context) (*inventory.BMCLAN, error) {
	return &inventory.BMCLAN{Channel: 1, IP: "10.0.0.50"}, nil
}

func (b *fakeBMC) Close() error { b.closed = true; return nil }

const secret = "s3cret-enrol-pw"

func enrolAnswer() answer {
	return answer{ins: inventory.Instruction{Action: inventory.ActionEnrol, Enrol: &inventory.EnrolUser{User: "provision", Password: secret}}}
}

// TestRunEnrol: the enrolment is posted whether it worked, failed to
// open the BMC, or failed in it; a BMC that refused only SOL is an
// enrolment that worked, with the refusal said; the password is never
// printed.
func TestRunEnrol(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(context.Context) (BMC, error)
		want inventory.Enrolment
	}{
		{"works", func(context.Context) (BMC, error) { return &fakeBMC{}, nil },
			inventory.Enrolment{OK: true, UserID: 3, Channel: 1, BMC: &inventory.BMCLAN{Channel: 1, IP: "10.0.0.50"}}},
		{"no SOL", func(context.Context) (BMC, error) { return &fakeBMC{err: fmt.Errorf("ipmi: %w: refused", ErrSOL)}, nil },
			inventory.Enrolment{OK: true, UserID: 3, Channel: 1, Error: "ipmi: sol: refused", BMC: &inventory.BMCLAN{Channel: 1, IP: "10.0.0.50"}}},
		{"no device", func(context.Context) (BMC, error) { return nil, errors.New("ipmi: /dev/ipmi0: no such file") },
			inventory.Enrolment{Error: "ipmi: /dev/ipmi0: no such file"}},
		{"refused", func(context.Context) (BMC, error) { return &fakeBMC{err: errors.New("ipmi: no free user slot")}, nil },
			inventory.Enrolment{UserID: 3, Channel: 1, Error: "ipmi: no free user slot"}},
		{"no IPMI", nil, inventory.Enrolment{Error: "no in-band IPMI"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, enrolAnswer(), ok(inventory.ActionPowerOff, 0))
			h.cfg.IPMI = tc.open
			if err := Run(context.Background(), h.cfg); err != nil {
				t.Fatal(err)
			}
			got := h.app.requests()
			if len(got) != 2 || got[1].Method != http.MethodPost || got[1].Path != "/discovery/enrol" {
				t.Fatalf("requests: %+v", got)
			}
			var e inventory.Enrolment
			if err := json.Unmarshal([]byte(got[1].Body), &e); err != nil {
				t.Fatal(err)
			}
			tc.want.MAC = "52:54:00:12:34:56"
			if d := cmp.Diff(tc.want, e); d != "" {
				t.Errorf("enrolment (-want +got):\n%s", d)
			}
			if strings.Contains(h.log.String(), secret) {
				t.Errorf("the console shows the password:\n%s", h.log.String())
			}
			if len(h.powers) != 1 {
				t.Errorf("Power calls: %v", h.powers)
			}
		})
	}
}

// TestRunPowerFails: a poweroff that fails is said on the console and
// the appliance is asked again.
func TestRunPowerFails(t *testing.T) {
	h := newHarness(t, ok(inventory.ActionPowerOff, 0), ok(inventory.ActionPowerOff, 0))
	fails := 1
	h.cfg.Power = func(action string) error {
		h.powers = append(h.powers, action)
		if fails > 0 {
			fails--
			return errors.New("operation not permitted")
		}
		return nil
	}
	if err := Run(context.Background(), h.cfg); err != nil {
		t.Fatal(err)
	}
	if len(h.powers) != 2 || len(h.app.requests()) != 2 || h.app.requests()[1].Method != http.MethodGet {
		t.Errorf("Power calls %v, requests %+v: want two of each, the second a GET", h.powers, h.app.requests())
	}
	if !strings.Contains(h.log.String(), "poweroff: operation not permitted") {
		t.Errorf("the console does not say why:\n%s", h.log.String())
	}
}
