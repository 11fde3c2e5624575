package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The fleet view's endpoint counts the whole fleet by state, and filters
// (state, profile, subnet, part of a name, MAC or IP) and pages on the
// server; bad filters are refused naming what is wrong.
func TestFleet(t *testing.T) {
	srv := newTestServer(t)
	post := func(path, body string) {
		t.Helper()
		if code, out := call(t, "POST", srv.URL+path, "tok", body); code != 201 && code != 200 {
			t.Fatalf("POST %s: %d %s", path, code, out)
		}
	}
	post("/api/v1/subnets", `{"name":"a","cidr":"10.0.0.0/24"}`)
	post("/api/v1/subnets", `{"name":"b","cidr":"10.0.1.0/24"}`)
	sum := sha256.Sum256([]byte("kernel"))
	sha := hex.EncodeToString(sum[:])
	if code, out := call(t, "PUT", srv.URL+"/api/v1/blobs?sha256="+sha, "tok", "kernel"); code/100 != 2 {
		t.Fatalf("upload: %d %s", code, out)
	}
	post("/api/v1/images", `{"name":"img","kind":"install","files":{"kernel":{"sha256":"`+sha+`"},"initrd":{"sha256":"`+sha+`"}}}`)
	post("/api/v1/profiles", `{"name":"web","image":"img"}`)
	post("/api/v1/profiles", `{"name":"db","image":"img"}`)
	for i := range 25 {
		profile, subnet := "web", "0"
		if i%5 == 0 {
			profile, subnet = "db", "1"
		}
		post("/api/v1/systems", fmt.Sprintf(`{"name":"h%02d","macs":["02:00:00:00:00:%02x"],"ip":"10.0.%s.%d","profile":%q}`, i, i, subnet, 10+i, profile))
	}
	get := func(q string) Fleet {
		t.Helper()
		code, body := call(t, "GET", srv.URL+"/api/v1/fleet"+q, "ro", "")
		if code != 200 {
			t.Fatalf("GET /api/v1/fleet%s: %d %s", q, code, body)
		}
		var f Fleet
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	all := get("")
	if all.Total != 25 || all.Matched != 25 || len(all.Systems) != 25 || all.Counts["diskless"] != 25 || all.Counts["booted"] != 0 {
		t.Fatalf("the whole fleet: total %d, matched %d, %d rows, counts %v", all.Total, all.Matched, len(all.Systems), all.Counts)
	}
	if r := all.Systems[3]; r.Name != "h03" || r.MAC != "02:00:00:00:00:03" || r.IP != "10.0.0.13" || r.Profile != "web" || r.Power != "" {
		t.Errorf("row 3: %+v", r)
	}
	for q, want := range map[string][]string{
		"?profile=db":                    {"h00", "h05", "h10", "h15", "h20"},
		"?subnet=b":                      {"h00", "h05", "h10", "h15", "h20"},
		"?q=H1":                          {"h10", "h11", "h12", "h13", "h14", "h15", "h16", "h17", "h18", "h19"},
		"?q=00:00:07":                    {"h07"},
		"?q=10.0.1.3":                    {"h20"},
		"?profile=web&offset=18&limit=5": {"h23", "h24"},
		"?state=installed":               {},
	} {
		f := get(q)
		var names []string
		for _, r := range f.Systems {
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != strings.Join(want, ",") || f.Total != 25 {
			t.Errorf("fleet%s: %v (total %d), want %v", q, names, f.Total, want)
		}
	}
	if f := get("?limit=10&offset=10"); f.Matched != 25 || len(f.Systems) != 10 || f.Systems[0].Name != "h10" {
		t.Errorf("the second page of 10: matched %d, %d rows from %v", f.Matched, len(f.Systems), f.Systems)
	}
	for q, want := range map[string]string{
		"?state=gone":   "state gone",
		"?profile=nope": "profile nope not found",
		"?subnet=nope":  "subnet nope not found",
		"?limit=0":      "limit",
		"?limit=5000":   "limit",
		"?offset=-1":    "offset",
		"?offset=ten":   "offset",
	} {
		code, body := call(t, "GET", srv.URL+"/api/v1/fleet"+q, "ro", "")
		if code/100 != 4 || !strings.Contains(body, want) {
			t.Errorf("fleet%s: %d %s, want a refusal saying %q", q, code, body, want)
		}
	}
}
