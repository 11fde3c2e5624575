package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/provision/provision/api"
)

// The host page lists the system's network interfaces (issue 28, item 3).
func TestHostPageInterfaces(t *testing.T) {
	const report = `{"system":{"name":"web001","hostname":"web001.dsas","macs":["52:54:00:00:00:0a","52:54:00:00:00:0b"],"ip":"10.0.0.11","profile":"web","status":"diskless"},
"loader":"ipxe","kernel_args":"","boot":"netboot","settings":[],"last_boot":[],"interfaces":[
{"name":"eth0","mac":"52:54:00:00:00:0a","kind":"physical"},
{"name":"eth1","mac":"52:54:00:00:00:0b","kind":"physical"},
{"name":"bond0","bond_mode":"active-backup","members":["eth0","eth1"],"primary":true,"kind":"bond","address":"10.0.0.11"},
{"name":"bond0.100","vlan_parent":"bond0","vlan_id":100,"mtu":9000,"ip":"10.0.1.11","kind":"vlan","address":"10.0.1.11"}]}`
	fake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/systems/web001/report":
			w.Write([]byte(report))
		case "/api/v1/fleet":
			w.Write([]byte(`{"total":1,"counts":{},"matched":1,"offset":0,"limit":100,"systems":[]}`))
		default:
			w.Write([]byte(`[]`))
		}
	})
	auth := api.Tokens("adm", "")
	h := Handler(Config{API: fake, Auth: auth})
	c := sessionCookie(login(h, url.Values{"token": {"adm"}}, ""))
	if c == nil {
		t.Fatal("no session")
	}
	w := do(h, "GET", "/ui/systems/web001", nil, c)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("host page: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		`<h2 id="ifaces">Network interfaces</h2>`,
		`<tr><td class="mono">bond0</td><td>bond</td><td class="mono">active-backup eth0,eth1</td><td>-</td><td class="mono">10.0.0.11</td><td>yes</td></tr>`,
		`<tr><td class="mono">bond0.100</td><td>vlan</td><td class="mono">bond0 id 100</td><td>9000</td><td class="mono">10.0.1.11</td><td>no</td></tr>`,
		`<tr><td class="mono">eth1</td><td>physical</td><td class="mono">52:54:00:00:00:0b</td><td>-</td><td class="mono">-</td><td>no</td></tr>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the host page lacks %s", want)
		}
	}
}
