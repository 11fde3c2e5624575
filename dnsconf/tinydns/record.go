package tinydns

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DNS types that tinydns-data writes or treats specially (RFC 1035, 3596).
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypePTR   uint16 = 12
	TypeMX    uint16 = 15
	TypeTXT   uint16 = 16
	TypeAAAA  uint16 = 28
	TypeAXFR  uint16 = 252
	TypeANY   uint16 = 255
)

// TypeLocation marks a Record that is a client-location entry from a %
// line rather than a DNS record. DNS type 0 is reserved, and tinydns-data
// refuses it in : lines, so it never names a DNS record.
const TypeLocation uint16 = 0

// Default TTLs of tinydns-data 1.05.
const (
	TTLPositive = 86400  // + = @ C ^ ' : lines
	TTLNS       = 259200 // . & lines
	TTLNegative = 2560   // SOA records and their minimum field
)

// ErrData reports record data in a data.cdb that cannot be decoded.
var ErrData = errors.New("tinydns: malformed record data")

// A Record is one entry of a data.cdb.
//
// For a DNS record, Key is the owner name in wire format with ASCII
// letters lowercased and a first label "*" removed (then Wildcard is set);
// Location, when not zero, restricts the record to clients of that
// location; Timestamp, when not zero, is a TAI64 label (an expiry time if
// TTL is 0, else a start time); RData is the uncompressed wire rdata.
//
// For a client-location entry (Type == TypeLocation), Key is "\000%"
// followed by the IPv4 prefix bytes, and Location is the code given to
// clients whose address starts with that prefix.
type Record struct {
	Key       []byte
	Type      uint16
	Wildcard  bool
	Location  [2]byte
	TTL       uint32
	Timestamp [8]byte
	RData     []byte
}

// IsLocation reports whether r is a client-location entry from a % line.
func (r Record) IsLocation() bool { return r.Type == TypeLocation }

// CDB returns the data.cdb key and data of r. Key must already be in key
// form (lowercased, wildcard label removed), as NewRecord and Parse make it.
func (r Record) CDB() (key, data []byte) {
	if r.IsLocation() {
		return r.Key, r.Location[:]
	}
	data = binary.BigEndian.AppendUint16(make([]byte, 0, 17+len(r.RData)), r.Type)
	flag := byte('=')
	if r.Location != [2]byte{} {
		flag = '>'
	}
	if r.Wildcard {
		flag -= 19 // '=' becomes '*', '>' becomes '+'
	}
	data = append(data, flag)
	if r.Location != [2]byte{} {
		data = append(data, r.Location[:]...)
	}
	data = binary.BigEndian.AppendUint32(data, r.TTL)
	data = append(data, r.Timestamp[:]...)
	return r.Key, append(data, r.RData...)
}

// Decode parses the key and data of one data.cdb record. The Record's
// slices alias key and data.
func Decode(key, data []byte) (Record, error) {
	if len(key) >= 2 && key[0] == 0 && key[1] == '%' {
		if len(data) != 2 {
			return Record{}, fmt.Errorf("%w: location entry of %d bytes, want 2", ErrData, len(data))
		}
		return Record{Key: key, Location: [2]byte{data[0], data[1]}}, nil
	}
	if len(data) < 3 {
		return Record{}, fmt.Errorf("%w: %d bytes", ErrData, len(data))
	}
	r := Record{Key: key, Type: binary.BigEndian.Uint16(data)}
	rest := data[3:]
	switch data[2] {
	case '=':
	case '*':
		r.Wildcard = true
	case '>', '+':
		r.Wildcard = data[2] == '+'
		if len(rest) < 2 {
			return Record{}, fmt.Errorf("%w: no location", ErrData)
		}
		r.Location, rest = [2]byte{rest[0], rest[1]}, rest[2:]
	default:
		return Record{}, fmt.Errorf("%w: unknown flag %q", ErrData, data[2])
	}
	if len(rest) < 12 {
		return Record{}, fmt.Errorf("%w: no TTL and timestamp", ErrData)
	}
	r.TTL = binary.BigEndian.Uint32(rest)
	r.Timestamp = [8]byte(rest[4:12])
	r.RData = rest[12:]
	return r, nil
}

// NewRecord makes a DNS record with no location and no timestamp. owner is
// a dotted name in data-file syntax (see ParseName); a first label "*"
// makes a wildcard record.
func NewRecord(owner string, typ uint16, ttl uint32, rdata []byte) (Record, error) {
	if typ == TypeLocation {
		return Record{}, fmt.Errorf("tinydns: type 0 is not a DNS type")
	}
	wire, err := ParseName(owner)
	if err != nil {
		return Record{}, err
	}
	key, wild := ownerKey(wire)
	return Record{Key: key, Type: typ, Wildcard: wild, TTL: ttl, RData: rdata}, nil
}

// Owner returns the owner name in wire format: Key, with the "*" label put
// back for a wildcard.
func (r Record) Owner() []byte {
	if r.Wildcard {
		return append([]byte("\001*"), r.Key...)
	}
	return r.Key
}
