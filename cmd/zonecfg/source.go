package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
)

// source is where records come from: a data.cdb file or a DNS server.
// Lookup returns no records and no error when the name or type does not
// exist; an error means the source could not be read (exit 3).
type source interface {
	Lookup(name string, qtype uint16) ([]dns.RR, error)
	Where() string         // "data.cdb PATH" or "DNS server ADDR", for messages
	Zone() (string, error) // the zone apex, "" if the source cannot tell
	All(zone string) ([]dns.RR, error)
	Close() error
}

func noSource(format string, a ...any) error {
	return &exitError{exitNoSource, fmt.Sprintf(format, a...)}
}

// openSource picks the source: --cdb, $ZONECFG_CDB, ./data.cdb, DNS.
func openSource(o options, env environment) (source, error) {
	path := first(o.cdb, env.Getenv("ZONECFG_CDB"))
	if path == "" && o.server == "" && env.Exists("data.cdb") {
		path = "data.cdb"
	}
	if path != "" {
		r, err := cdb.OpenMapped(path) // a lookup costs the same whatever the file's size
		if err != nil {
			return nil, noSource("%s: %v", path, err)
		}
		return cdbSource{r, path}, nil
	}
	server := o.server
	if server == "" {
		server, _ = resolvConf(env.ResolvConf())
	}
	if server == "" {
		return nil, noSource("no data.cdb and no DNS server (give --cdb or --server)")
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &dnsSource{server: server}, nil
}

type cdbSource struct {
	r    *cdb.Reader
	path string
}

func (s cdbSource) Close() error  { return s.r.Close() }
func (s cdbSource) Where() string { return "data.cdb " + s.path }

func (s cdbSource) Lookup(name string, qtype uint16) ([]dns.RR, error) {
	recs, err := tinydns.Lookup(s.r, name, qtype)
	if err != nil {
		return nil, noSource("data.cdb: %v", err)
	}
	return toRRs(recs)
}

// Zone is the owner of the first SOA record; the appliance writes it
// first, so the scan stops at once.
func (s cdbSource) Zone() (string, error) {
	var zone string
	err := s.r.ForEach(func(k, d []byte) error {
		rec, err := tinydns.Decode(k, d)
		if err != nil || rec.Type != dns.TypeSOA {
			return nil
		}
		if rr, err := rec.RR(); err == nil {
			zone = rr.Header().Name
			return errFound
		}
		return nil
	})
	if err == errFound {
		err = nil
	}
	return zone, err
}

var errFound = errors.New("found")

func (s cdbSource) All(string) ([]dns.RR, error) {
	var recs []tinydns.Record
	err := s.r.ForEach(func(k, d []byte) error {
		rec, err := tinydns.Decode(k, d)
		if err != nil {
			return noSource("data.cdb: %v", err)
		}
		if !rec.IsLocation() && !rec.Wildcard {
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return toRRs(recs)
}

func toRRs(recs []tinydns.Record) ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(recs))
	for _, rec := range recs {
		rr, err := rec.RR()
		if err != nil {
			return nil, noSource("data.cdb: %v", err)
		}
		out = append(out, rr)
	}
	return out, nil
}

// dnsSource asks a DNS server, over UDP with a TCP retry when the answer
// is truncated.
type dnsSource struct{ server string }

func (s *dnsSource) Close() error  { return nil }
func (s *dnsSource) Where() string { return "DNS server " + s.server }

func (s *dnsSource) Lookup(name string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, s.server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, s.server)
	}
	if err != nil {
		return nil, noSource("dns %s: %v", s.server, err)
	}
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	default:
		return nil, noSource("dns %s: %s for %s", s.server, dns.RcodeToString[r.Rcode], name)
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype && strings.EqualFold(rr.Header().Name, dns.Fqdn(name)) {
			out = append(out, rr)
		}
	}
	return out, nil
}

func (s *dnsSource) Zone() (string, error) { return "", nil }

// All transfers the zone (AXFR over TCP); the server must allow it.
func (s *dnsSource) All(zone string) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	t := &dns.Transfer{DialTimeout: 3 * time.Second, ReadTimeout: 10 * time.Second}
	ch, err := t.In(m, s.server)
	if err != nil {
		return nil, noSource("zone transfer of %s from %s: %v", zone, s.server, err)
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return nil, noSource("zone transfer of %s from %s: %v", zone, s.server, env.Error)
		}
		out = append(out, env.RR...)
	}
	return out, nil
}
