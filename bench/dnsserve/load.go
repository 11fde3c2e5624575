package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/dnsconf"
	"github.com/provision/provision/registry"
)

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// load fills a new registry with n systems on 10.64.0.0/10, 5 settings
// each (3 from the profile, 2 their own), and 2 global settings.
func load(ctx context.Context, path string, n int) (*registry.Snapshot, error) {
	st, err := registry.OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	reg, err := registry.Open(ctx, st, "dsas")
	if err != nil {
		return nil, err
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, "settings: {lvs.vrid: \"100\", motd: hello}\n")
	fmt.Fprintf(&doc, "subnets: [{name: fleet, cidr: 10.64.0.0/10}]\n")
	fmt.Fprintf(&doc, "images: [{name: centos, kind: install, files: {kernel: {sha256: %s}, initrd: {sha256: %s}}}]\n", sha, sha)
	fmt.Fprintf(&doc, "profiles: [{name: web, image: centos, settings: {role: web, ntp.server: 10.64.0.1, console: \"ttyS0,115200\"}}]\n")
	doc.WriteString("systems:\n")
	for i := range n {
		fmt.Fprintf(&doc, "  - {name: %s, macs: [\"02:00:00:%02x:%02x:%02x\"], ip: %s, profile: web, settings: {rack: r%03d, serial: SN%08d}}\n",
			hostName(i), i>>16&0xff, i>>8&0xff, i&0xff, hostIP(i), i/40, i)
	}
	if _, err := reg.Import(ctx, []byte(doc.String()), false); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return reg.Snapshot(), reg.Close()
}

func hostName(i int) string { return fmt.Sprintf("h%05d", i) }

// hostIP is the (i+1)-th address of 10.64.0.0/10.
func hostIP(i int) string {
	i++
	return fmt.Sprintf("10.%d.%d.%d", 64+i>>16, i>>8&0xff, i&0xff)
}

// writeFiles writes one zone file per apex (NSD), a list of them, and the
// dnsperf query list.
func writeFiles(dir string, z *dnsconf.Zone, snap *registry.Snapshot) error {
	if err := os.MkdirAll(filepath.Join(dir, "zones"), 0o755); err != nil {
		return err
	}
	files := map[string]*strings.Builder{}
	apexes := z.Apexes()
	for _, a := range apexes {
		files[a] = &strings.Builder{}
	}
	for _, rr := range z.Records() {
		b := files[apexOf(apexes, rr.Header().Name)]
		if b == nil {
			return fmt.Errorf("record %s is in no apex of %v", rr, apexes)
		}
		b.WriteString(rr.String() + "\n")
	}
	var list strings.Builder
	for _, a := range apexes {
		name := strings.TrimSuffix(a, ".") + ".zone"
		if err := os.WriteFile(filepath.Join(dir, "zones", name), []byte(files[a].String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&list, "%s %s\n", a, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "zones.list"), []byte(list.String()), 0o644); err != nil {
		return err
	}
	return writeQueries(filepath.Join(dir, "queries"), snap)
}

// apexOf returns the closest apex holding name.
func apexOf(apexes []string, name string) string {
	best := ""
	for _, a := range apexes {
		if dns.IsSubDomain(a, name) && (best == "" || dns.CountLabel(a) > dns.CountLabel(best)) {
			best = a
		}
	}
	return best
}

// writeQueries: per system a setting (TXT), its name (A) and its address
// (PTR), plus a global setting and a missing name (NXDOMAIN).
func writeQueries(path string, snap *registry.Snapshot) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, sys := range snap.Systems() {
		rev, _ := dns.ReverseAddr(sys.IP)
		fmt.Fprintf(w, "rack.%s._host.dsas TXT\n%s.dsas A\n%s PTR\n", sys.Name, sys.Name, rev)
		if i%10 == 0 {
			fmt.Fprintf(w, "lvs.vrid.dsas TXT\nmissing%d.dsas A\n", i)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
