package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/webhook"
)

// HookInput is a hook as added: registry.Hook with its secret, which no
// answer carries.
type HookInput struct {
	Name         string   `json:"name"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	SystemFilter string   `json:"system_filter,omitempty"`
	Secret       string   `json:"secret,omitempty"`
}

// HookTest is how a test delivery went.
type HookTest struct {
	Hook   string `json:"hook"`
	URL    string `json:"url"`
	Millis int64  `json:"millis"` // how long the receiver took
}

func (s *server) listHooks(w http.ResponseWriter, r *http.Request) {
	out := s.snap().Hooks()
	if out == nil {
		out = []*registry.Hook{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) showHook(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().Hook(r.PathValue("name"))
	found(w, v, ok, "hook", r.PathValue("name"))
}

func (s *server) addHook(w http.ResponseWriter, r *http.Request) {
	var in HookInput
	if !decode(w, r, &in) {
		return
	}
	h := registry.Hook{Name: in.Name, URL: in.URL, Events: in.Events, SystemFilter: in.SystemFilter, Secret: registry.Secret(in.Secret)}
	if err := s.Registry.AddHook(r.Context(), h); err != nil {
		fail(w, err)
		return
	}
	v, _ := s.snap().Hook(in.Name)
	writeJSON(w, http.StatusCreated, v)
}

func (s *server) removeHook(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveHook(r.Context(), r.PathValue("name")))
}

// testHook POSTs a "test" event to the hook now, signed as deliveries
// are, and answers how it went (502 naming what the receiver did).
func (s *server) testHook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h, ok := s.snap().Hook(name)
	if !ok {
		writeError(w, http.StatusNotFound, "hook "+name+" not found")
		return
	}
	d := registry.Delivery{Event: "test", At: time.Now(), System: ""}
	ctx, cancel := context.WithTimeout(r.Context(), webhook.Timeout)
	defer cancel()
	start := time.Now()
	if err := webhook.Post(ctx, webhook.NewClient(), h, d.Event, 0, webhook.Body(d)); err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, HookTest{Hook: name, URL: h.URL, Millis: time.Since(start).Milliseconds()})
}

// hookDeliveries lists a hook's last deliveries (?limit=N, 100 by
// default, at most 1,000), newest first, without their payloads.
func (s *server) hookDeliveries(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.snap().Hook(name); !ok {
		writeError(w, http.StatusNotFound, "hook "+name+" not found")
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit "+strconv.Quote(v)+": give a number from 1 to 1000")
			return
		}
		limit = n
	}
	o, err := s.Registry.Outbox()
	if err != nil {
		fail(w, err)
		return
	}
	out, err := o.Deliveries(r.Context(), name, limit)
	if err != nil {
		fail(w, err)
		return
	}
	for i := range out {
		out[i].Payload = nil
	}
	if out == nil {
		out = []registry.Delivery{}
	}
	writeJSON(w, http.StatusOK, out)
}
