package tinydns

import (
	"bytes"
	"fmt"
)

// meta holds the ttl, timestamp and location fields that end most lines.
// ttl is kept at 64 bits because a . line tests it for zero before it is
// truncated to 32.
type meta struct {
	ttl uint64
	ts  [8]byte
	loc [2]byte
}

// fieldsMeta reads the ttl at f[i], the timestamp and the location after it.
func fieldsMeta(f [numFields][]byte, i int, defTTL uint64) meta {
	return meta{number(f[i], defTTL), parseTimestamp(f[i+1]), parseLocation(f[i+2])}
}

// add emits one DNS record (rr_start ... rr_finish in tinydns-data).
func (p *parser) add(owner []byte, typ uint16, ttl uint64, m meta, rdata []byte) error {
	key, wild := ownerKey(owner)
	r := Record{Key: key, Type: typ, Wildcard: wild, Location: m.loc, TTL: uint32(ttl), Timestamp: m.ts, RData: rdata}
	if err := p.emit(r); err != nil {
		return &emitError{err}
	}
	return nil
}

// location: %lo:ipprefix
func (p *parser) location(f [numFields][]byte) error {
	key := append([]byte("\000%"), ipPrefix(f[1])...)
	if err := p.emit(Record{Key: key, Type: TypeLocation, Location: parseLocation(f[0])}); err != nil {
		return &emitError{err}
	}
	return nil
}

// a: +fqdn:ip:ttl:timestamp:lo (A) and =fqdn:ip:ttl:timestamp:lo (A, PTR)
func (p *parser) a(f [numFields][]byte, withPTR bool) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	m := fieldsMeta(f, 2, TTLPositive)
	ip, ok := scanIP4(f[1])
	if !ok {
		return nil
	}
	if err := p.add(owner, TypeA, m.ttl, m, ip[:]); err != nil {
		return err
	}
	if !withPTR {
		return nil
	}
	return p.add(reverseName(ip), TypePTR, m.ttl, m, owner)
}

// pointer: ^fqdn:p:ttl:timestamp:lo (PTR) and Cfqdn:p:ttl:timestamp:lo (CNAME)
func (p *parser) pointer(f [numFields][]byte, cname bool) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	target, err := parseName(f[1])
	if err != nil {
		return err
	}
	typ := TypePTR
	if cname {
		typ = TypeCNAME
	}
	m := fieldsMeta(f, 2, TTLPositive)
	return p.add(owner, typ, m.ttl, m, target)
}

// txt: 'fqdn:s:ttl:timestamp:lo
func (p *parser) txt(f [numFields][]byte) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	m := fieldsMeta(f, 2, TTLPositive)
	return p.add(owner, TypeTXT, m.ttl, m, TXTRData(unescape(f[1])))
}

// generic: :fqdn:n:rdata:ttl:timestamp:lo
func (p *parser) generic(f [numFields][]byte) error {
	owner, err := parseName(f[0])
	if err != nil {
		return err
	}
	m := fieldsMeta(f, 3, TTLPositive)
	typ := uint16(number(f[1], 0))
	if name, ok := prohibited(typ); ok {
		return fmt.Errorf("type %s %w", name, ErrProhibited)
	}
	return p.add(owner, typ, m.ttl, m, unescape(f[2]))
}

// prohibited names the types a : line may not give, because tinydns makes
// them from other lines (SOA NS CNAME PTR MX) or never serves them.
func prohibited(typ uint16) (string, bool) {
	switch typ {
	case TypeAXFR:
		return "AXFR", true
	case 0:
		return "0", true
	case TypeSOA:
		return "SOA", true
	case TypeNS:
		return "NS", true
	case TypeCNAME:
		return "CNAME", true
	case TypePTR:
		return "PTR", true
	case TypeMX:
		return "MX", true
	}
	return "", false
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
