package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/provision/provision/internal/ratelimit"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/inventory"
)

// Errors a Backend returns, by the status they answer.
var (
	ErrForbidden  = errors.New("discovery: not allowed")
	ErrBadRequest = errors.New("discovery: bad request")
	ErrNotFound   = errors.New("discovery: unknown machine")
)

// Backend decides what a machine's agent does; from is the client's
// address. Its methods may write to the registry and talk to BMCs.
type Backend interface {
	Report(ctx context.Context, r inventory.Report, from netip.Addr) (inventory.Instruction, error)
	Enrolled(ctx context.Context, e inventory.Enrolment, from netip.Addr) (inventory.Instruction, error)
	Next(ctx context.Context, mac, token string, from netip.Addr) (inventory.Instruction, error)
}

// Paths are the handler's routes, as http.ServeMux patterns.
func Paths() []string { return []string{"/discovery/"} }

// Handler serves the agent's endpoints from b, logging to log (nil:
// nowhere). Each client address may make 2 requests a second (a burst of
// 10): an agent makes one every few seconds.
func Handler(b Backend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, log: log, limit: ratelimit.New(2, 10, 4096)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /discovery/inventory", h.inventory)
	mux.HandleFunc("POST /discovery/enrol", h.enrol)
	mux.HandleFunc("GET /discovery/next", h.next)
	return mux
}

type handler struct {
	b     Backend
	log   *slog.Logger
	limit *ratelimit.Limiter
}

func (h *handler) inventory(w http.ResponseWriter, r *http.Request) {
	from, ok := h.admit(w, r)
	if !ok {
		return
	}
	var rep inventory.Report
	if err := inventory.Decode(r.Body, &rep); err != nil {
		h.fail(w, r, from, "", fmt.Errorf("%w: inventory: %v", ErrBadRequest, err))
		return
	}
	rep.Inventory = rep.Inventory.Clean()
	mac, err := checkMAC(rep.Inventory.MAC)
	if err != nil {
		h.fail(w, r, from, "", err)
		return
	}
	rep.Inventory.MAC = mac
	in, err := h.b.Report(r.Context(), rep, from)
	h.answer(w, r, from, mac, in, err)
}

func (h *handler) enrol(w http.ResponseWriter, r *http.Request) {
	from, ok := h.admit(w, r)
	if !ok {
		return
	}
	var e inventory.Enrolment
	if err := inventory.Decode(r.Body, &e); err != nil {
		h.fail(w, r, from, "", fmt.Errorf("%w: enrolment: %v", ErrBadRequest, err))
		return
	}
	mac, err := checkMAC(e.MAC)
	if err != nil {
		h.fail(w, r, from, "", err)
		return
	}
	e.MAC, e.Error = mac, textsafe.Strip(e.Error)
	if len(e.Error) > 512 {
		e.Error = e.Error[:512]
	}
	if e.BMC != nil {
		e.BMC = inventory.Inventory{BMC: e.BMC}.Clean().BMC
	}
	in, err := h.b.Enrolled(r.Context(), e, from)
	h.answer(w, r, from, mac, in, err)
}

func (h *handler) next(w http.ResponseWriter, r *http.Request) {
	from, ok := h.admit(w, r)
	if !ok {
		return
	}
	mac, err := checkMAC(r.URL.Query().Get("mac"))
	if err != nil {
		h.fail(w, r, from, "", err)
		return
	}
	in, err := h.b.Next(r.Context(), mac, r.URL.Query().Get("token"), from)
	h.answer(w, r, from, mac, in, err)
}

// admit returns the client's address, or answers 400 or 429.
func (h *handler) admit(w http.ResponseWriter, r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	from, perr := netip.ParseAddr(host)
	if err != nil || perr != nil {
		http.Error(w, "provision: bad client address", http.StatusBadRequest)
		return netip.Addr{}, false
	}
	from = from.Unmap()
	if !h.limit.Allow(from.String(), time.Now()) {
		w.Header().Set("Retry-After", "2")
		http.Error(w, "provision: too many requests from "+from.String(), http.StatusTooManyRequests)
		return from, false
	}
	return from, true
}

// checkMAC returns mac in canonical form, or ErrBadRequest.
func checkMAC(mac string) (string, error) {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("%w: mac %q is not an Ethernet address", ErrBadRequest, textsafe.Strip(mac))
	}
	return hw.String(), nil
}

func (h *handler) answer(w http.ResponseWriter, r *http.Request, from netip.Addr, mac string, in inventory.Instruction, err error) {
	if err != nil {
		h.fail(w, r, from, mac, err)
		return
	}
	h.log.Info("discovery", "client", from, "mac", mac, "path", r.URL.Path, "action", in.Action)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(in)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, from netip.Addr, mac string, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, ErrBadRequest):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	}
	level := slog.LevelWarn
	if code == http.StatusInternalServerError {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "discovery", "client", from, "mac", mac, "path", r.URL.Path, "status", code, "err", err)
	http.Error(w, "provision: "+err.Error(), code)
}
