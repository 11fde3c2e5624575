package tinydns

import (
	"encoding/binary"
	"fmt"

	"github.com/miekg/dns"
)

// FromRR turns a miekg/dns record into a Record with the same owner, type,
// TTL and uncompressed wire rdata, and no location or timestamp. An owner
// whose first label is "*" makes a wildcard record. The class is ignored
// (tinydns serves IN only).
func FromRR(rr dns.RR) (Record, error) {
	// Packing writes the record's header (its rdata length): a copy
	// leaves rr, which may be shared with other readers, alone.
	rr = dns.Copy(rr)
	buf := make([]byte, dns.Len(rr)+maxName)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return Record{}, fmt.Errorf("tinydns: pack %s: %w", rr.Header().Name, err)
	}
	buf = buf[:end]
	n, err := nameLen(buf)
	if err != nil || end < n+10 {
		return Record{}, fmt.Errorf("tinydns: pack %s: bad owner", rr.Header().Name)
	}
	key, wild := ownerKey(buf[:n])
	h := buf[n:]
	return Record{
		Key:      key,
		Type:     binary.BigEndian.Uint16(h),
		Wildcard: wild,
		TTL:      binary.BigEndian.Uint32(h[4:]),
		RData:    append([]byte(nil), h[10:]...),
	}, nil
}

// RR returns r as a miekg/dns record of class IN, with the owner in
// lowercase (as stored in the key). Location and Timestamp are dropped.
func (r Record) RR() (dns.RR, error) {
	if r.IsLocation() {
		return nil, fmt.Errorf("tinydns: location entry %q is not a DNS record", r.Key)
	}
	if len(r.RData) > 0xffff {
		return nil, fmt.Errorf("%w: %d bytes of rdata", ErrData, len(r.RData))
	}
	msg := append([]byte(nil), r.Owner()...)
	msg = binary.BigEndian.AppendUint16(msg, r.Type)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
	msg = binary.BigEndian.AppendUint32(msg, r.TTL)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(r.RData)))
	rr, _, err := dns.UnpackRR(append(msg, r.RData...), 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return rr, nil
}
