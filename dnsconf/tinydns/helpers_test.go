package tinydns

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// rec builds an expected record; key and rdata are raw bytes.
func rec(key string, typ uint16, ttl uint32, rdata string, mods ...func(*Record)) Record {
	r := Record{Key: []byte(key), Type: typ, TTL: ttl, RData: []byte(rdata)}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func wildcard(r *Record) { r.Wildcard = true }

func loc(code string) func(*Record) {
	return func(r *Record) { copy(r.Location[:], code) }
}

func stamp(hexTS string) func(*Record) {
	return func(r *Record) {
		b, err := hex.DecodeString(hexTS)
		if err != nil || len(b) != 8 {
			panic("bad test timestamp " + hexTS)
		}
		r.Timestamp = [8]byte(b)
	}
}

// timers packs SOA serial, refresh, retry, expire and minimum.
func timers(v ...uint32) string {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return string(b)
}

// wire converts "www.example.com" to "\003www\007example\003com\000"
// (plain labels only).
func wire(name string) string {
	var sb strings.Builder
	for _, l := range strings.Split(name, ".") {
		if l != "" {
			sb.WriteByte(byte(len(l)))
			sb.WriteString(l)
		}
	}
	sb.WriteByte(0)
	return sb.String()
}
