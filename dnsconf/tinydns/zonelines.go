package tinydns

import (
	"bytes"
	"encoding/binary"
)

// SOA timers tinydns-data uses when a line gives none.
const (
	soaRefresh = 16384
	soaRetry   = 2048
	soaExpire  = 1048576
	soaMinimum = TTLNegative
)

// soa: Zfqdn:mname:rname:ser:ref:ret:exp:min:ttl:timestamp:lo
func (p *parser) soa(f [numFields][]byte) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	timers := p.soaTimers(f[3:8])
	m := fieldsMeta(f, 8, TTLNegative)
	mname, err := parseName(f[1])
	if err != nil {
		return err
	}
	rname, err := parseName(f[2])
	if err != nil {
		return err
	}
	return p.add(owner, TypeSOA, m.ttl, m, concat(mname, rname, timers))
}

// ns: .fqdn:ip:x:ttl:timestamp:lo (SOA, NS, A) and &fqdn:ip:x:ttl:timestamp:lo (NS, A)
func (p *parser) ns(f [numFields][]byte, withSOA bool) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	m := fieldsMeta(f, 3, TTLNS)
	server, err := parseName(serverName(f[2], ".ns.", f[0]))
	if err != nil {
		return err
	}
	if withSOA {
		soaTTL := uint64(TTLNegative)
		if m.ttl == 0 {
			soaTTL = 0
		}
		rdata := concat(server, []byte("\012hostmaster"), owner, p.soaTimers(nil))
		if err := p.add(owner, TypeSOA, soaTTL, m, rdata); err != nil {
			return err
		}
	}
	if err := p.add(owner, TypeNS, m.ttl, m, server); err != nil {
		return err
	}
	return p.glue(f[1], server, m)
}

// glue adds the A record of a . & or @ line's server when ip parses.
func (p *parser) glue(ipField, server []byte, m meta) error {
	ip, ok := scanIP4(ipField)
	if !ok {
		return nil
	}
	return p.add(server, TypeA, m.ttl, m, ip[:])
}

// serverName applies the x-rule: a server field without a dot names
// x + infix + fqdn ("x.ns.fqdn" or "x.mx.fqdn").
func serverName(x []byte, infix string, fqdn []byte) []byte {
	if bytes.IndexByte(x, '.') >= 0 {
		return x
	}
	return concat(x, []byte(infix), fqdn)
}

// soaTimers returns serial, refresh, retry, expire and minimum, each
// from its field when it has digits, else the default.
func (p *parser) soaTimers(fields [][]byte) []byte {
	var b []byte
	for i, def := range []uint32{p.serial, soaRefresh, soaRetry, soaExpire, soaMinimum} {
		v := uint64(def)
		if i < len(fields) {
			v = number(fields[i], v)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// mx: @fqdn:ip:x:dist:ttl:timestamp:lo (MX, A)
func (p *parser) mx(f [numFields][]byte) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	m := fieldsMeta(f, 4, TTLPositive)
	server, err := parseName(serverName(f[2], ".mx.", f[0]))
	if err != nil {
		return err
	}
	rdata := binary.BigEndian.AppendUint16(nil, uint16(number(f[3], 0)))
	if err := p.add(owner, TypeMX, m.ttl, m, append(rdata, server...)); err != nil {
		return err
	}
	return p.glue(f[1], server, m)
}
