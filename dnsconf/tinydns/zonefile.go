package tinydns

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/miekg/dns"
)

// A ZoneFile is one zone of a data.cdb as an RFC 1035 master file holds
// it: the zone's SOA first, then its other records (the apex's, then the
// names below it in canonical order, RFC 4034 6.1), and only records at
// or below its origin that no other SOA below it claims. It is what one
// zone statement of NSD or BIND loads.
type ZoneFile struct {
	Origin string // the SOA's owner, a FQDN: "internal.", "0.10.10.in-addr.arpa."
	RRs    []dns.RR
}

// Zones splits recs into the zones their SOA records start, in canonical
// order of their origins. Each record goes to the zone of the closest SOA
// at or above its owner. Left are what no zone file can hold: records
// under no SOA, and SOA records other than the first at each origin
// (a second one, a wildcard's).
func Zones(recs []Record) (zones []ZoneFile, left []dns.RR, err error) {
	var items []zoneItem
	origins := map[string]bool{}
	for _, rec := range recs {
		it, err := newZoneItem(rec)
		if err != nil {
			return nil, nil, err
		}
		if rec.Type == TypeSOA && !rec.Wildcard {
			origins[string(rec.Key)] = true
		}
		items = append(items, it)
	}
	byZone := map[string][]zoneItem{}
	for _, it := range items {
		if z, ok := zoneOf(it.key, origins); ok {
			byZone[z] = append(byZone[z], it)
		} else {
			left = append(left, it.rr)
		}
	}
	byOrigin := func(a, b string) int { return compareOwners(wireLabels([]byte(a)), wireLabels([]byte(b))) }
	for _, key := range slices.SortedFunc(maps.Keys(byZone), byOrigin) {
		z, extra := zoneFile(byZone[key])
		zones, left = append(zones, z), append(left, extra...)
	}
	return zones, left, nil
}

// zoneItem is a record with what sorting it needs.
type zoneItem struct {
	key    []byte   // the owner's cdb key: lowercase wire name, no wildcard label
	labels [][]byte // the owner's labels (the wildcard's "*" included)
	rr     dns.RR
}

func newZoneItem(rec Record) (zoneItem, error) {
	rr, err := rec.RR()
	if err != nil {
		return zoneItem{}, err
	}
	return zoneItem{key: rec.Key, labels: wireLabels(rec.Owner()), rr: rr}, nil
}

// zoneOf returns the origin (a cdb key) closest above or at key.
func zoneOf(key []byte, origins map[string]bool) (string, bool) {
	for off := 0; off < len(key); off += 1 + int(key[off]) {
		if origins[string(key[off:])] {
			return string(key[off:]), true
		}
		if key[off] == 0 {
			break
		}
	}
	return "", false
}

// zoneFile orders the records of one zone: its first SOA, then the rest
// by owner in canonical order, each owner's records by type (the cdb's
// order within a type). Its other SOA records are extra: a zone file
// holds one, at its origin.
func zoneFile(items []zoneItem) (ZoneFile, []dns.RR) {
	slices.SortStableFunc(items, func(a, b zoneItem) int {
		if c := compareOwners(a.labels, b.labels); c != 0 {
			return c
		}
		return int(a.rr.Header().Rrtype) - int(b.rr.Header().Rrtype)
	})
	i := slices.IndexFunc(items, func(it zoneItem) bool { return it.rr.Header().Rrtype == dns.TypeSOA })
	z := ZoneFile{Origin: items[i].rr.Header().Name, RRs: []dns.RR{items[i].rr}}
	var extra []dns.RR
	for j, it := range items {
		switch {
		case j == i:
		case it.rr.Header().Rrtype == dns.TypeSOA:
			extra = append(extra, it.rr)
		default:
			z.RRs = append(z.RRs, it.rr)
		}
	}
	return z, extra
}

// wireLabels splits a wire name the cdb holds (already checked by
// Decode's caller through RR) into its labels; a malformed one has none.
func wireLabels(b []byte) [][]byte {
	ls, _ := labels(b)
	return ls
}

// compareOwners orders names canonically (RFC 4034 6.1): by their labels
// from the last, each compared as bytes (cdb keys are lowercase), a
// name before those below it.
func compareOwners(a, b [][]byte) int {
	for i, j := len(a)-1, len(b)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(a[i], b[j]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Write writes z as a master file: "$ORIGIN", then one record a line,
// every name absolute.
func (z ZoneFile) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "$ORIGIN %s\n", z.Origin)
	for _, rr := range z.RRs {
		bw.WriteString(rr.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
