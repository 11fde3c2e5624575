package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/provision/provision/api"
)

const machineJSON = `{"mac":"52:54:00:00:29:01","state":"discovered","ip":"127.0.0.21","subnet":"loop","reason":"ip 10.0.0.5 already belongs to web005",
"bmc":{"address":"10.0.1.41","user":"provision","enrolled":true,"at":"2026-12-06T22:00:00Z"},
"inventory":{"mac":"52:54:00:00:29:01","boot_mode":"uefi","dmi":{"vendor":"Acme","product":"<script>alert(1)</script>","serial":"SER-A"},
"cpu":{"model":"Xeon","sockets":2,"cores":16,"threads":32},"memory_mib":65536,
"disks":[{"name":"vda","path":"/dev/vda","serial":"SER-A-D1","size_bytes":2147483648,"rotational":false,"removable":false}],
"nics":[{"name":"eth0","mac":"52:54:00:00:29:01","link":true,"lldp":{"switch":"tor-a12","port":"Ethernet1/7"}},{"name":"eth1","mac":"52:54:00:00:29:a1","link":false}]},
"first_seen":"2026-12-06T22:00:00Z","updated":"2026-12-06T22:00:00Z"}`

// fakeDiscoveryAPI answers the machines, one profile and one subnet, and
// records the accept it is sent; an accept named "taken" is refused as
// the registry refuses a conflict.
func fakeDiscoveryAPI(accepted *api.AcceptInput) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/machines":
			if r.URL.Query().Get("state") != "discovered" {
				http.Error(w, `{"error":"want state=discovered"}`, http.StatusBadRequest)
				return
			}
			w.Write([]byte("[" + machineJSON + "]"))
		case "GET /api/v1/machines/52:54:00:00:29:01":
			w.Write([]byte(machineJSON))
		case "GET /api/v1/profiles":
			w.Write([]byte(`[{"name":"centos-web"}]`))
		case "GET /api/v1/subnets":
			w.Write([]byte(`[{"name":"lan"}]`))
		case "POST /api/v1/machines/52:54:00:00:29:01/accept":
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, accepted)
			if accepted.Name == "taken" {
				w.WriteHeader(http.StatusConflict)
				w.Write([]byte(`{"error":"name taken already belongs to system taken"}`))
				return
			}
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"system":{"name":"` + accepted.Name + `","ip":"10.0.0.3"}}`))
		default:
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		}
	})
}

// The Discovered view lists a machine with its hardware summary, escaped;
// its page shows the inventory and the accept form; the form sends the
// accept to the API and shows the new system, or the refusal with the
// form as it was.
func TestDiscoveredPages(t *testing.T) {
	var accepted api.AcceptInput
	auth := api.Tokens("adm", "")
	h := Handler(Config{API: fakeDiscoveryAPI(&accepted), Auth: auth})
	c := sessionCookie(login(h, url.Values{"token": {"adm"}}, ""))
	if c == nil {
		t.Fatal("no session")
	}
	w := do(h, "GET", "/ui/discovered", nil, c)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /ui/discovered: %d\n%s", w.Code, body)
	}
	for _, want := range []string{`<tr data-machine="52:54:00:00:29:01">`, "SER-A", "2x 16c/32t, 64.0 GiB", "1, 2.0 GiB", "tor-a12 Ethernet1/7",
		"10.0.1.41 (enrolled)", "ip 10.0.0.5 already belongs to web005", "&lt;script&gt;", `href="/ui/discovered/52:54:00:00:29:01#accept"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the Discovered view lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("an inventory string is in the page unescaped")
	}

	w = do(h, "GET", "/ui/discovered/52:54:00:00:29:01", nil, c)
	body = w.Body.String()
	for _, want := range []string{`<h2 id="accept">Accept</h2>`, `data-field="disk-serial">SER-A-D1<`, `data-field="lldp-port">Ethernet1/7`, "52:54:00:00:29:a1", "no LLDP", "enrolled as provision"} {
		if !strings.Contains(body, want) {
			t.Errorf("the machine's page lacks %s", want)
		}
	}
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the machine's page has no CSRF token:\n%s", body)
	}
	post := func(name string) *httptest.ResponseRecorder {
		f := url.Values{"csrf": {m[1]}, "name": {name}, "profile": {"centos-web"}, "ip": {"auto"}, "subnet": {"lan"}, "reinstall": {"1"}}
		return do(h, "POST", "/ui/discovered/52:54:00:00:29:01/accept", f, c)
	}
	w = post("taken")
	if body := w.Body.String(); w.Code != http.StatusConflict || !strings.Contains(body, "already belongs to system taken") || !strings.Contains(body, `value="taken"`) {
		t.Errorf("a refused accept: %d, want 409 with the reason and the form kept:\n%s", w.Code, body)
	}
	w = post("web029")
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/systems/web029?done=Accepted+as+web029") {
		t.Errorf("accept: %d, Location %q", w.Code, loc)
	}
	if want := (api.AcceptInput{Name: "web029", Profile: "centos-web", IP: "auto", Subnet: "lan", Reinstall: true}); accepted != want {
		t.Errorf("the API was sent %+v, want %+v", accepted, want)
	}
}
