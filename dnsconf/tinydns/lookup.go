package tinydns

import (
	"fmt"

	"github.com/provision/provision/dnsconf/cdb"
)

// Lookup returns the records stored under name with type qtype (all types
// for TypeANY), in data.cdb order, for readers of a data.cdb such as
// zonecfg. name is a dotted name in data-file syntax (see ParseName); a
// final dot is optional and case does not matter.
//
// Lookup reads the store, it does not answer as tinydns would: it skips
// wildcard records and does not follow CNAMEs, but it returns records
// whatever their Location and Timestamp, which are decoded for the caller
// to check. A record whose data cannot be decoded is an error wrapping
// ErrData.
func Lookup(r *cdb.Reader, name string, qtype uint16) ([]Record, error) {
	wire, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	key := lowerASCII(wire)
	all, err := r.Find(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Record
	for _, data := range all {
		rec, err := Decode(key, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if rec.IsLocation() || rec.Wildcard || (qtype != TypeANY && rec.Type != qtype) {
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}
