package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/provision/provision/dnsconf/tinydns"
)

func newZoneExport() *cobra.Command {
	c := &cobra.Command{
		Use:   "export [--format tinydns|zone] [--zone ZONE] [--dir DIR]",
		Short: "Print the zone the appliance serves",
		Long: `Print the zone the appliance serves (its current data.cdb), as a tinydns
"data" file (compiling it gives the same records) or as RFC 1035 zone files.

With --format zone, each zone (the internal zone and the in-addr.arpa zone
of each subnet) is written on its own: a "$ORIGIN ZONE" line, its SOA
first, then only its own records (its apex's, then its names in canonical
order). A DNS server loads one zone a file, so to load them elsewhere
(NSD, BIND: nsd-checkzone and named-checkzone accept them) write one file
a zone with --dir DIR (DIR/ZONE.zone, e.g. internal.zone and
0.10.10.in-addr.arpa.zone), or one zone with --zone ZONE. Without either,
every zone goes to standard output, one after another, each starting with
its $ORIGIN line. --zone or --dir imply --format zone. Records under no
zone's SOA have no zone file: they are left out and counted on standard
error.`,
		Args: args(cobra.NoArgs),
		RunE: zoneExport,
	}
	f := c.Flags()
	f.String("format", "tinydns", "tinydns (a data file) or zone (RFC 1035 zone files)")
	f.String("zone", "", "only this zone (e.g. internal, 0.10.10.in-addr.arpa); implies --format zone")
	f.String("dir", "", "write one file a zone, DIR/ZONE.zone (DIR is made if need be); implies --format zone")
	return c
}

func zoneExport(c *cobra.Command, _ []string) error {
	format, only, dir, err := zoneExportFlags(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := client(c).Raw(ctx(c), "GET", "/zone/data.cdb", "", nil, -1, &buf); err != nil {
		return err
	}
	recs, err := tinydns.ReadCDB(buf.Bytes())
	if err != nil {
		return fmt.Errorf("the served %w", err)
	}
	if format == "tinydns" {
		return tinydns.Format(c.OutOrStdout(), recs)
	}
	return exportZoneFiles(c, recs, only, dir)
}

// zoneExportFlags returns --format (zone when --zone or --dir is given
// without it), --zone and --dir.
func zoneExportFlags(c *cobra.Command) (format, only, dir string, err error) {
	f := c.Flags()
	format, _ = f.GetString("format")
	only, _ = f.GetString("zone")
	dir, _ = f.GetString("dir")
	if !f.Changed("format") && (only != "" || dir != "") {
		format = "zone"
	}
	switch {
	case format != "tinydns" && format != "zone":
		err = usage(fmt.Errorf("--format %q: use tinydns or zone", format))
	case format == "tinydns" && (only != "" || dir != ""):
		err = usage(fmt.Errorf("--zone and --dir write zone files: they go with --format zone"))
	}
	return format, only, dir, err
}

// exportZoneFiles writes the zones of recs (the one named only, if
// given) to standard output or, with dir, one file each.
func exportZoneFiles(c *cobra.Command, recs []tinydns.Record, only, dir string) error {
	zones, left, err := tinydns.Zones(recs)
	if err != nil {
		return fmt.Errorf("the served data.cdb: %w", err)
	}
	if zones, err = pickZone(zones, only); err != nil {
		return err
	}
	if len(left) > 0 && only == "" {
		fmt.Fprintf(c.ErrOrStderr(), "left out: %s under no zone's SOA (%s)\n", records(len(left)), leftNames(left))
	}
	if dir != "" {
		return writeZoneFiles(c.OutOrStdout(), dir, zones)
	}
	return writeZones(c.OutOrStdout(), zones)
}

// pickZone keeps the zone named only, or all of them when only is "".
func pickZone(zones []tinydns.ZoneFile, only string) ([]tinydns.ZoneFile, error) {
	if only == "" {
		return zones, nil
	}
	want := dns.CanonicalName(only)
	i := slices.IndexFunc(zones, func(z tinydns.ZoneFile) bool { return dns.CanonicalName(z.Origin) == want })
	if i < 0 {
		names := make([]string, len(zones))
		for j, z := range zones {
			names[j] = z.Origin
		}
		return nil, fmt.Errorf("zone %s: the appliance serves no such zone (it serves %s)", want, strings.Join(names, ", "))
	}
	return zones[i : i+1], nil
}

// writeZones writes the zones one after another, a blank line between.
func writeZones(w io.Writer, zones []tinydns.ZoneFile) error {
	for i, z := range zones {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := z.Write(w); err != nil {
			return err
		}
	}
	return nil
}

// writeZoneFiles writes each zone to DIR/ZONE.zone (making DIR) and
// says so.
func writeZoneFiles(w io.Writer, dir string, zones []tinydns.ZoneFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, z := range zones {
		path, err := zoneFilePath(dir, z.Origin)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := z.Write(&buf); err != nil {
			return err
		}
		if err := writeFileAtomicMode(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("zone %s: %w", z.Origin, err)
		}
		fmt.Fprintf(w, "%s: zone %s, %s\n", path, z.Origin, records(len(z.RRs)))
	}
	return nil
}

// zoneFilePath is DIR/ZONE.zone, ZONE without its final dot; a name that
// is no plain file name (a "/" in a label, the root zone) is refused.
func zoneFilePath(dir, origin string) (string, error) {
	name := strings.TrimSuffix(strings.ToLower(origin), ".")
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("zone %q: its name cannot be a file name: export it with --zone", origin)
	}
	return filepath.Join(dir, name+".zone"), nil
}

// leftNames names the first few records left out.
func leftNames(rrs []dns.RR) string {
	var names []string
	for _, rr := range rrs[:min(len(rrs), 3)] {
		names = append(names, rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype])
	}
	if len(rrs) > 3 {
		names = append(names, fmt.Sprintf("and %d more", len(rrs)-3))
	}
	return strings.Join(names, ", ")
}

func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}
