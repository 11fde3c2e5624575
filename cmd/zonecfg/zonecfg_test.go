package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/provision/provision/dnsconf/tinydns"
)

type fakeEnv struct {
	vars     map[string]string
	cmdline  string
	hostname string
	resolv   string
	files    map[string]bool
}

func (e fakeEnv) Getenv(n string) string    { return e.vars[n] }
func (e fakeEnv) Cmdline() string           { return e.cmdline }
func (e fakeEnv) Hostname() (string, error) { return e.hostname, nil }
func (e fakeEnv) ResolvConf() string        { return e.resolv }
func (e fakeEnv) Exists(path string) bool   { return e.files[path] }

var long = strings.Repeat("0123456789", 100)

// writeCDB writes a data.cdb of the zone dsas with the given records.
func writeCDB(t *testing.T, rrs ...string) string {
	t.Helper()
	all := append([]string{
		"dsas. 2560 IN SOA ns.dsas. hostmaster.dsas. 42 16384 2048 1048576 2560",
		"dsas. 259200 IN NS ns.dsas.",
	}, rrs...)
	var recs []tinydns.Record
	for _, s := range all {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := tinydns.FromRR(rr)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	if err := tinydns.WriteCDB(&buf, recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.cdb")
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

func txtRR(name, value string) string {
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}}
	for len(value) > 255 {
		rr.Txt, value = append(rr.Txt, value[:255]), value[255:]
	}
	rr.Txt = append(rr.Txt, value)
	return rr.String()
}

func TestGetFromCDB(t *testing.T) {
	path := writeCDB(t,
		txtRR("lvs.vrid.dsas.", "100"),
		txtRR("lvs.vrid.lvs001._host.dsas.", "7"),
		txtRR("big.dsas.", long),
		txtRR("role.web001._host.dsas.", "web"),
		"web001.dsas. 86400 IN A 10.0.0.11",
	)
	env := fakeEnv{hostname: "web001.dsas.example", cmdline: "BOOT_IMAGE=x provision.zone=dsas"}
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--cdb", path, "get", "lvs.vrid"}, "100\n", 0},
		{[]string{"--cdb", path, "--host", "lvs001", "get", "lvs.vrid"}, "7\n", 0},
		{[]string{"get", "LVS.VRID", "--host", "lvs001", "--cdb", path}, "7\n", 0},
		{[]string{"--cdb", path, "get", "big"}, long + "\n", 0},
		{[]string{"--cdb", path, "get", "role"}, "web\n", 0},
		{[]string{"--cdb", path, "get", "-t", "A", "web001"}, "10.0.0.11\n", 0},
		{[]string{"--cdb", path, "get", "nope"}, "", exitNotFound},
		{[]string{"--cdb", path, "get"}, "", exitUsage},
		{[]string{"--cdb", path, "frobnicate", "x"}, "", exitUsage},
		{[]string{"--cdb", path, "get", "-t", "BOGUS", "x"}, "", exitUsage},
		{[]string{"--cdb", "/nonexistent/data.cdb", "get", "x"}, "", exitNoSource},
	} {
		var out bytes.Buffer
		err := run(c.args, &out, env)
		if code := exitCode(err); code != c.code || out.String() != c.want {
			t.Errorf("%v: exit %d (%v) out %q; want %d %q", c.args, code, err, out.String(), c.code, c.want)
		}
	}
	var out bytes.Buffer
	err := run([]string{"--cdb", path, "get", "nope"}, &out, env)
	if err == nil || err.Error() != "nope: not found (looked in data.cdb "+path+", zone dsas, host web001)" {
		t.Errorf("not found message: %v", err)
	}
}

func exitCode(err error) int {
	var ee *exitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitNoSource
}

func TestHostAndZoneResolution(t *testing.T) {
	path := writeCDB(t, txtRR("k.dsas.", "global"), txtRR("k.a._host.dsas.", "from-a"), txtRR("k.b._host.dsas.", "from-b"), txtRR("k.c._host.dsas.", "from-c"))
	env := fakeEnv{
		vars:     map[string]string{"ZONECFG_CDB": path},
		hostname: "c.example.org",
		cmdline:  "quiet provision.host=b",
	}
	check := func(env fakeEnv, args []string, want string) {
		t.Helper()
		var out bytes.Buffer
		if err := run(args, &out, env); err != nil || out.String() != want {
			t.Errorf("%v: %q %v, want %q", args, out.String(), err, want)
		}
	}
	check(env, []string{"--host", "a", "get", "k"}, "from-a\n")
	env.vars["ZONECFG_HOST"] = "a"
	check(env, []string{"get", "k"}, "from-a\n")
	delete(env.vars, "ZONECFG_HOST")
	check(env, []string{"get", "k"}, "from-b\n") // kernel command line
	env.cmdline = "quiet"
	check(env, []string{"get", "k"}, "from-c\n") // hostname, zone from the SOA
	check(env, []string{"--host", "zz", "get", "k"}, "global\n")
	// ./data.cdb is used when it exists and nothing else is given
	delete(env.vars, "ZONECFG_CDB")
	dir := filepath.Dir(path)
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	env.files = map[string]bool{"data.cdb": true}
	check(env, []string{"get", "k"}, "from-c\n")
}

func TestDumpFromCDB(t *testing.T) {
	path := writeCDB(t, txtRR("a.dsas.", "1"), txtRR("b.dsas.", "2"), txtRR("b.web001._host.dsas.", "22"),
		txtRR("c.web001._host.dsas.", "line\nbreak"), txtRR("d.other._host.dsas.", "no"))
	var out bytes.Buffer
	if err := run([]string{"--cdb", path, "--host", "web001", "dump"}, &out, fakeEnv{}); err != nil {
		t.Fatal(err)
	}
	want := "a\t1\tglobal\nb\t22\thost web001\nc\t\"line\\nbreak\"\thost web001\n"
	if out.String() != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestCorruptCDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.cdb")
	os.WriteFile(path, []byte("not a cdb"), 0o644)
	err := run([]string{"--cdb", path, "--zone", "dsas", "get", "k"}, &bytes.Buffer{}, fakeEnv{hostname: "h"})
	if exitCode(err) != exitNoSource {
		t.Fatalf("corrupt cdb: %v", err)
	}
	err = run([]string{"--host", "h", "--zone", "dsas", "get", "k"}, &bytes.Buffer{}, fakeEnv{})
	if exitCode(err) != exitNoSource || !strings.Contains(err.Error(), "no data.cdb and no DNS server") {
		t.Fatalf("no source: %v", err)
	}
}
