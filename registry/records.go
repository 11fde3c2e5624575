package registry

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// ObjRecord is a static DNS record: one the operator added (for example
// with `provision zone import`) and the registry does not own.
const ObjRecord = "record"

// Record is a static DNS record in zone-file text, e.g.
// "mail.dsas.\t3600\tIN\tA\t10.0.0.25".
type Record struct {
	RR string `json:"rr" yaml:"rr"`
}

// RecordPolicy refuses a static record at a name the registry itself
// publishes (a system's name, a setting...) or that the DNS server could
// not serve. The DNS side provides it.
type RecordPolicy func(s *Snapshot, rr dns.RR) error

// SetRecordPolicy installs the policy used by AddRecords. Call it before
// serving.
func (r *Registry) SetRecordPolicy(p RecordPolicy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordPolicy = p
}

// canonicalRecord parses a record and returns its canonical text and
// lowercase owner name. Records must lie inside the zone or a reverse
// (in-addr.arpa) zone.
func (s *Snapshot) canonicalRecord(text string) (string, dns.RR, error) {
	rr, err := dns.NewRR(text)
	if err != nil || rr == nil {
		return "", nil, invalidf("record %q: %v", text, err)
	}
	owner := strings.ToLower(rr.Header().Name)
	rr.Header().Name = owner // names are case-insensitive: one spelling
	zone := dns.Fqdn(strings.ToLower(s.Zone))
	if !dns.IsSubDomain(zone, owner) && !dns.IsSubDomain("in-addr.arpa.", owner) {
		return "", nil, invalidf("record %s: %s is outside zone %s", rr.String(), owner, zone)
	}
	if t := rr.Header().Rrtype; t == dns.TypeSOA || t == dns.TypeNS && owner == zone {
		return "", nil, invalidf("record %s: the appliance owns the SOA and NS of its zone", rr.String())
	}
	return rr.String(), rr, nil
}

func (s *Snapshot) addRecord(text string, policy RecordPolicy) (*Record, bool, error) {
	canon, rr, err := s.canonicalRecord(text)
	if err != nil {
		return nil, false, err
	}
	if policy != nil {
		if err := policy(s, rr); err != nil {
			return nil, false, &Error{ErrConflict, err.Error()}
		}
	}
	if _, ok := s.records[canon]; ok {
		return &Record{canon}, false, nil
	}
	s.records[canon] = recordOwner(rr)
	return &Record{canon}, true, nil
}

// recordOwner is a record's owner name as zoneNames writes names.
func recordOwner(rr dns.RR) string { return strings.TrimSuffix(strings.ToLower(rr.Header().Name), ".") }

// Records lists the static records, sorted.
func (s *Snapshot) Records() []string { return slices.Sorted(maps.Keys(s.records)) }

// AddRecords adds static records, all or nothing: every record is checked
// (syntax, zone, the record policy) and every problem reported before
// anything is written. With replace, the static records not in rrs are
// removed. It returns the records added.
func (r *Registry) AddRecords(ctx context.Context, rrs []string, replace bool) ([]string, error) {
	var added []string
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		var ops []Op
		var errs Errors
		keep := map[string]bool{}
		added = nil // a change may be validated again (mutate)
		for _, text := range rrs {
			rec, isNew, err := n.addRecord(text, r.recordPolicy)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			keep[rec.RR] = true
			if isNew {
				added = append(added, rec.RR)
				ops = append(ops, op(ObjRecord, "", nil, rec, rec.RR, "add"))
			}
		}
		if len(errs) > 0 {
			return nil, errs
		}
		for old := range n.records {
			if replace && !keep[old] {
				delete(n.records, old)
				ops = append(ops, op(ObjRecord, old, &Record{old}, nil, "", "remove"))
			}
		}
		return ops, nil
	})
	return added, err
}

// RemoveRecord removes one static record, given in any text form that
// parses to it.
func (r *Registry) RemoveRecord(ctx context.Context, text string) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		canon, _, err := n.canonicalRecord(text)
		if err != nil {
			return nil, err
		}
		if _, ok := n.records[canon]; !ok {
			return nil, notFound(ObjRecord, canon)
		}
		delete(n.records, canon)
		return []Op{op(ObjRecord, canon, &Record{canon}, nil, "", "remove")}, nil
	})
	return err
}
