package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/pgtest"
)

// BenchmarkSharedRegistry: with 10,000 systems ($BENCH_SYSTEMS), a
// system add and a setting set through appliance A's API (the time to
// the acknowledgement: validated and committed), and the time from that
// acknowledgement until the change is answered by the DNS of, and served
// in the data.cdb of, another appliance B on the same PostgreSQL database.
// The sqlite case, in the same run, is one appliance on its embedded
// SQLite file, the change observed on itself: what the single appliance
// costs, for comparison. DNS is polled in-process (no dig start), data.cdb
// with If-None-Match.
func BenchmarkSharedRegistry(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			a, other := sharedFleet(b, store)
			poll := &cdbPoller{b: b, url: other.URL}
			var addAck, addDNS, addCDB, setAck, setDNS, setCDB time.Duration
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("new%06d", i)
				doc := fmt.Sprintf(`{"name":%q,"macs":["02:ab:00:%02x:%02x:%02x"],"ip":"172.31.%d.%d","profile":"web"}`,
					name, i>>16&0xff, i>>8&0xff, i&0xff, 150+i/250%50, 2+i%250)
				start := time.Now()
				apiCall(b, a, "POST", "/api/v1/systems", doc)
				acked := time.Now()
				addAck += acked.Sub(start)
				waitDNS(b, other.DNS, name+".dsas.", dns.TypeA, "")
				addDNS += time.Since(acked)
				served, _ := poll.waitFor("profile."+name+"._host.dsas", "web")
				addCDB += served.Sub(acked)

				want := fmt.Sprint(5000 + i)
				start = time.Now()
				apiCall(b, a, "PUT", "/api/v1/settings/bench.value", fmt.Sprintf(`{"value":%q}`, want))
				acked = time.Now()
				setAck += acked.Sub(start)
				waitDNS(b, other.DNS, "bench.value.dsas.", dns.TypeTXT, want)
				setDNS += time.Since(acked)
				served, _ = poll.waitFor("bench.value.dsas", want)
				setCDB += served.Sub(acked)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(addAck), "ms-add-ack")
			b.ReportMetric(ms(addDNS), "ms-add-to-dns")
			b.ReportMetric(ms(addCDB), "ms-add-to-cdb")
			b.ReportMetric(ms(setAck), "ms-set-ack")
			b.ReportMetric(ms(setDNS), "ms-set-to-dns")
			b.ReportMetric(ms(setCDB), "ms-set-to-cdb")
		})
	}
}

// sharedFleet starts the appliance that takes the writes and the one
// that is watched, holding the fleet: the same one on SQLite, two on one
// PostgreSQL database.
func sharedFleet(b *testing.B, store string) (a, other *server) {
	n := fleetSize()
	dataA := b.TempDir()
	var url string
	if store == "postgres" {
		url = pgtest.DB(b)
		a = startServerBinary(b, cli, dataA, "--zone", "dsas", "--database", url, "--name", "a")
	} else {
		a = startServerBinary(b, cli, dataA, "--zone", "dsas")
	}
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, fleetYAML(n), 0o644)
	a.ok("import", file)
	other = a
	if store == "postgres" {
		key, err := os.ReadFile(filepath.Join(dataA, "secret.key"))
		if err != nil {
			b.Fatal(err)
		}
		dataB := b.TempDir()
		os.WriteFile(filepath.Join(dataB, "secret.key"), key, 0o600)
		other = startServerBinary(b, cli, dataB, "--zone", "dsas", "--database", url, "--name", "b")
	}
	last := fmt.Sprintf("h%05d", n-1)
	for !cdbHas(b, other.URL, "mysql.server_id."+last+"._host.dsas", fmt.Sprint(n-1)) {
		time.Sleep(50 * time.Millisecond)
	}
	return a, other
}

// apiCall sends one authenticated API request and fails b unless it is
// a 2xx.
func apiCall(b *testing.B, s *server, method, path, body string) {
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b.Fatalf("%s %s: %s", method, path, resp.Status)
	}
}

// waitDNS polls server until name has an answer of type qtype (holding
// want, for a TXT).
func waitDNS(b *testing.B, server, name string, qtype uint16, want string) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		r, _, err := c.Exchange(m, server)
		if err != nil || len(r.Answer) == 0 {
			continue
		}
		if txt, ok := r.Answer[0].(*dns.TXT); qtype != dns.TypeTXT || ok && strings.Join(txt.Txt, "") == want {
			return
		}
	}
	b.Fatalf("%s %s not answered by %s within 30 s", name, dns.TypeToString[qtype], server)
}
