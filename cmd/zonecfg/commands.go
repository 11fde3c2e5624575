package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/provision/provision/dnsconf/tinydns"
)

// get prints a setting (TXT: the host's own, else the global one) or the
// records of another type.
func get(out io.Writer, src source, c lookupContext, o options) error {
	if o.qtype != dns.TypeTXT {
		rrs, err := src.Lookup(c.qualify(o.arg), o.qtype)
		if err != nil {
			return err
		}
		if len(rrs) == 0 {
			return notFound(src, c, o.arg+" ("+dns.TypeToString[o.qtype]+")")
		}
		for _, rr := range rrs {
			fmt.Fprintln(out, rdataText(rr))
		}
		return nil
	}
	key := strings.ToLower(o.arg)
	for _, name := range []string{c.hostName(key), c.globalName(key)} {
		rrs, err := src.Lookup(name, dns.TypeTXT)
		if err != nil {
			return err
		}
		if len(rrs) > 0 {
			fmt.Fprintln(out, txtValue(rrs[0]))
			return nil
		}
	}
	return notFound(src, c, o.arg)
}

// notFound says what was not found and where zonecfg looked.
func notFound(src source, c lookupContext, what string) error {
	return &exitError{exitNotFound, fmt.Sprintf("%s: not found (looked in %s, zone %s, host %s)",
		what, src.Where(), strings.TrimSuffix(c.zone, "."), c.host)}
}

// txtValue joins a TXT record's character-strings back into the value's
// bytes. miekg/dns keeps TXT strings in escaped presentation form, so the
// record is packed to wire format and its rdata split again.
func txtValue(rr dns.RR) string {
	buf := make([]byte, dns.Len(rr)+1)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return rdataText(rr)
	}
	rdata := buf[off-int(rr.Header().Rdlength) : off]
	strs, err := tinydns.TXTStrings(rdata)
	if err != nil {
		return rdataText(rr)
	}
	return string(bytes.Join(strs, nil))
}

// rdataText is the record's data without its header: "10.0.0.11" for A.
func rdataText(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.A:
		return r.A.String()
	case *dns.AAAA:
		return r.AAAA.String()
	}
	s := rr.String()
	hdr := rr.Header().String()
	return strings.TrimPrefix(s, hdr)
}

// dump prints every setting the host sees: KEY, VALUE (quoted when it
// holds anything but printable text) and where it comes from.
func dump(out io.Writer, src source, c lookupContext) error {
	rrs, err := src.All(c.zone)
	if err != nil {
		return err
	}
	hostSuffix := "." + c.host + "._host." + c.zone
	global, own := map[string]string{}, map[string]string{}
	for _, rr := range rrs {
		t, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		name := strings.ToLower(t.Hdr.Name)
		switch {
		case strings.HasSuffix(name, hostSuffix):
			own[strings.TrimSuffix(name, hostSuffix)] = txtValue(t)
		case strings.Contains(name, "._host.") || !strings.HasSuffix(name, "."+c.zone):
		default:
			global[strings.TrimSuffix(name, "."+c.zone)] = txtValue(t)
		}
	}
	keys := slices.Sorted(maps.Keys(global))
	for k := range own {
		if _, ok := global[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, from := global[k], "global"
		if hv, ok := own[k]; ok {
			v, from = hv, "host "+c.host
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", k, printable(v), from)
	}
	return nil
}

func printable(v string) string {
	for _, r := range v {
		if r < ' ' || r == 0x7f || r == '\t' {
			return strconv.Quote(v)
		}
	}
	return v
}
