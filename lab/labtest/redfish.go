package labtest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// RedfishBMC is a Redfish service (DMTF Redfish 1.6, the parts a power
// controller uses) on an HTTPS test server: the service root, sessions,
// one ComputerSystem with its PowerState and its Reset action. Debian
// packages no Redfish simulator, so this stands in for one; it answers
// 401 to a wrong user or password, as a real BMC does.
type RedfishBMC struct {
	Server   *httptest.Server // its Client() trusts the test certificate
	Address  string           // 127.0.0.1
	Port     int
	User     string
	Password string

	mu     sync.Mutex
	power  string   // "On" or "Off"
	resets []string // ResetType of every reset, in order
	logins int      // session requests that reached the service
}

// StartRedfishBMC serves until the test ends, powered off.
func StartRedfishBMC(t testing.TB, user, password string) *RedfishBMC {
	b := &RedfishBMC{User: user, Password: password, power: "Off"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /redfish/v1/{$}", b.root)
	mux.HandleFunc("POST /redfish/v1/SessionService/Sessions", b.login)
	mux.HandleFunc("DELETE /redfish/v1/SessionService/Sessions/1", b.authed(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	mux.HandleFunc("GET /redfish/v1/Systems", b.authed(b.systems))
	mux.HandleFunc("GET /redfish/v1/Systems/1", b.authed(b.system))
	mux.HandleFunc("POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset", b.authed(b.reset))
	b.Server = httptest.NewTLSServer(mux)
	t.Cleanup(b.Server.Close)
	host, port, _ := net.SplitHostPort(b.Server.Listener.Addr().String())
	b.Address = host
	b.Port, _ = strconv.Atoi(port)
	return b
}

// Power returns the system's power state, "On" or "Off".
func (b *RedfishBMC) Power() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.power
}

// Resets returns the ResetType of every reset asked for, in order.
func (b *RedfishBMC) Resets() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.resets...)
}

func (b *RedfishBMC) root(w http.ResponseWriter, r *http.Request) {
	writeRedfish(w, map[string]any{
		"@odata.id": "/redfish/v1/", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", "Id": "RootService",
		"RedfishVersion": "1.6.0", "Name": "provision lab Redfish",
		"Systems":        map[string]string{"@odata.id": "/redfish/v1/Systems"},
		"SessionService": map[string]string{"@odata.id": "/redfish/v1/SessionService"},
		"Links":          map[string]any{"Sessions": map[string]string{"@odata.id": "/redfish/v1/SessionService/Sessions"}},
	})
}

// Logins counts the session requests (each carries a password) that
// reached the service: a client that refused the certificate sent none.
func (b *RedfishBMC) Logins() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logins
}

func (b *RedfishBMC) login(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.logins++
	b.mu.Unlock()
	var in struct{ UserName, Password string }
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.UserName != b.User || in.Password != b.Password {
		http.Error(w, `{"error":{"message":"Unauthorized"}}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("X-Auth-Token", "lab-session-token")
	w.Header().Set("Location", "/redfish/v1/SessionService/Sessions/1")
	w.WriteHeader(http.StatusCreated)
	writeRedfish(w, map[string]string{"@odata.id": "/redfish/v1/SessionService/Sessions/1", "Id": "1", "UserName": in.UserName})
}

// authed answers 401 without the session's token or the right basic auth.
func (b *RedfishBMC) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, p, basic := r.BasicAuth()
		if r.Header.Get("X-Auth-Token") != "lab-session-token" && !(basic && u == b.User && p == b.Password) {
			http.Error(w, `{"error":{"message":"Unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (b *RedfishBMC) systems(w http.ResponseWriter, r *http.Request) {
	writeRedfish(w, map[string]any{"@odata.id": "/redfish/v1/Systems", "Name": "Systems",
		"Members": []map[string]string{{"@odata.id": "/redfish/v1/Systems/1"}}, "Members@odata.count": 1})
}

func (b *RedfishBMC) system(w http.ResponseWriter, r *http.Request) {
	writeRedfish(w, map[string]any{
		"@odata.id": "/redfish/v1/Systems/1", "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
		"Id": "1", "Name": "lab system", "PowerState": b.Power(),
		"Actions": map[string]any{"#ComputerSystem.Reset": map[string]any{
			"target":                            "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
			"ResetType@Redfish.AllowableValues": []string{"On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle", "GracefulRestart"},
		}},
	})
}

func (b *RedfishBMC) reset(w http.ResponseWriter, r *http.Request) {
	var in struct{ ResetType string }
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, "bad reset", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.resets = append(b.resets, in.ResetType)
	switch in.ResetType {
	case "On", "ForceRestart", "PowerCycle", "GracefulRestart":
		b.power = "On"
	case "ForceOff", "GracefulShutdown":
		b.power = "Off"
	}
	b.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func writeRedfish(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
