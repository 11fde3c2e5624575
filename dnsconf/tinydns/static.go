package tinydns

import (
	"errors"
	"fmt"
	"io"

	"github.com/provision/provision/dnsconf/cdb"
)

// ReadCDB decodes every record of a data.cdb.
func ReadCDB(b []byte) ([]Record, error) {
	r, err := cdb.New(b)
	if err != nil {
		return nil, fmt.Errorf("data.cdb: %w", err)
	}
	var recs []Record
	err = r.ForEach(func(k, d []byte) error {
		rec, err := Decode(k, d)
		recs = append(recs, rec)
		return err
	})
	return recs, err
}

// StaticRecords parses a data file into the zone-file records a zone
// can take as static records: SOA and NS lines are skipped (the zone's
// owner makes its own) and counted; client locations, wildcards, records
// restricted to a location and records with a timestamp are refused,
// every one named in the joined error.
func StaticRecords(data io.Reader) (rrs []string, skipped int, err error) {
	recs, err := Parse(data, Options{Serial: 1})
	if err != nil {
		return nil, 0, err
	}
	var errs []error
	for _, rec := range recs {
		if rec.Type == TypeSOA || rec.Type == TypeNS {
			skipped++
			continue
		}
		if why := unsupported(rec); why != "" {
			errs = append(errs, errors.New(why))
			continue
		}
		rr, err := rec.RR()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rrs = append(rrs, rr.String())
	}
	return rrs, skipped, errors.Join(errs...)
}

// unsupported says why rec cannot be a static record, or "".
func unsupported(rec Record) string {
	name := fmt.Sprintf("%q", rec.Key)
	if rr, err := rec.RR(); err == nil {
		name = rr.Header().Name
	}
	switch {
	case rec.IsLocation():
		return "client location lines (%) are not supported"
	case rec.Wildcard:
		return "wildcard " + name + ": not supported as a static record"
	case rec.Location != [2]byte{}:
		return name + ": records restricted to a client location are not supported"
	case rec.Timestamp != [8]byte{}:
		return name + ": records with a timestamp are not supported"
	}
	return ""
}
