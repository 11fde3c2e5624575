package discovery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/provision/provision/inventory"
)

// recorder is a Backend that keeps what it was given (a seam: the
// appliance's backend is proven with real machines).
type recorder struct {
	reports []inventory.Report
	enrols  []inventory.Enrolment
	err     error
}

func (r *recorder) Report(_ context.Context, rep inventory.Report, _ netip.Addr) (inventory.Instruction, error) {
	r.reports = append(r.reports, rep)
	return inventory.Instruction{Action: inventory.ActionPowerOff}, r.err
}

func (r *recorder) Enrolled(_ context.Context, e inventory.Enrolment, _ netip.Addr) (inventory.Instruction, error) {
	r.enrols = append(r.enrols, e)
	return inventory.Instruction{Action: inventory.ActionWait, Poll: 5}, r.err
}

func (r *recorder) Next(_ context.Context, mac, _ string, _ netip.Addr) (inventory.Instruction, error) {
	return inventory.Instruction{Action: inventory.ActionWait, Message: mac}, r.err
}

func do(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "10.0.0.50:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func TestHandlerReports(t *testing.T) {
	rec := &recorder{}
	h := Handler(rec, nil)
	body := `{"inventory":{"mac":"52:54:00:AA:BB:01","dmi":{"serial":"S1\u001b[2J","product":"R650"},"cpu":{"sockets":1,"cores":2,"threads":2},"memory_mib":1024,"boot_mode":"bios"}}`
	code, out := do(t, h, "POST", "/discovery/inventory", body)
	if code != 200 || !strings.Contains(out, `"action":"poweroff"`) {
		t.Fatalf("report: %d %s", code, out)
	}
	got := rec.reports[0].Inventory
	if got.MAC != "52:54:00:aa:bb:01" || got.DMI.Serial != "S1[2J" {
		t.Errorf("the backend got mac %q serial %q: want them canonical and without control characters", got.MAC, got.DMI.Serial)
	}
}

func TestHandlerRefuses(t *testing.T) {
	big := `{"inventory":{"mac":"52:54:00:aa:bb:01","errors":["` + strings.Repeat("x", inventory.MaxBytes) + `"]}}`
	for _, c := range []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"bad mac", "POST", "/discovery/inventory", `{"inventory":{"mac":"nope"}}`, 400, `mac "nope" is not an Ethernet address`},
		{"unknown field", "POST", "/discovery/inventory", `{"inventory":{"mac":"52:54:00:aa:bb:01"},"extra":1}`, 400, "unknown field"},
		{"two values", "POST", "/discovery/inventory", `{"inventory":{"mac":"52:54:00:aa:bb:01"}} {}`, 400, "more than one JSON value"},
		{"oversized", "POST", "/discovery/inventory", big, 400, fmt.Sprintf("more than %d bytes", inventory.MaxBytes)},
		{"enrol bad mac", "POST", "/discovery/enrol", `{"mac":"","ok":true}`, 400, "not an Ethernet address"},
		{"next without mac", "GET", "/discovery/next", "", 400, "not an Ethernet address"},
		{"wrong method", "GET", "/discovery/inventory", "", 405, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			code, out := do(t, Handler(rec, nil), c.method, c.path, c.body)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("%d %q, want %d and %q", code, out, c.code, c.want)
			}
			if len(rec.reports)+len(rec.enrols) != 0 {
				t.Errorf("the backend was called")
			}
		})
	}
}

func TestHandlerStatuses(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("%w: 10.0.0.50 is on no subnet with discovery on", ErrForbidden), 403},
		{fmt.Errorf("%w: machine 52:54:00:aa:bb:01", ErrNotFound), 404},
		{fmt.Errorf("the database is gone"), 500},
	} {
		code, out := do(t, Handler(&recorder{err: c.err}, nil), "GET", "/discovery/next?mac=52:54:00:aa:bb:01", "")
		if code != c.code || !strings.Contains(out, c.err.Error()) {
			t.Errorf("%v: %d %q, want %d with the reason", c.err, code, out, c.code)
		}
	}
}

// A client that asks too often is told to wait; the others are not.
func TestHandlerRateLimit(t *testing.T) {
	h := Handler(&recorder{}, nil)
	limited := 0
	for range 50 {
		if code, _ := do(t, h, "GET", "/discovery/next?mac=52:54:00:aa:bb:01", ""); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 30 {
		t.Errorf("%d of 50 quick requests limited, want most of them", limited)
	}
	req := httptest.NewRequest("GET", "/discovery/next?mac=52:54:00:aa:bb:02", nil)
	req.RemoteAddr = "10.0.0.51:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("another client: %d", w.Code)
	}
}
