package registry

import (
	"context"
	"time"
)

// Lease is a dynamic-pool DHCP lease, persisted so that pool addresses
// survive a restart.
type Lease struct {
	MAC     string    `json:"mac"`
	IP      string    `json:"ip"`
	Subnet  string    `json:"subnet"`
	Expires time.Time `json:"expires"`
	State   string    `json:"state"` // bound, released, declined
	// Holder is the appliance that acknowledged the lease (serve --name);
	// on a shared database, ClaimLease keeps an address to one MAC at a
	// time across appliances.
	Holder string `json:"holder,omitempty"`
}

// Discovered is an unknown machine seen on a subnet with a pool, ready to
// be promoted with `system add`.
type Discovered struct {
	MAC         string    `json:"mac"`
	IP          string    `json:"ip"`
	Subnet      string    `json:"subnet"`
	Hostname    string    `json:"hostname,omitempty"`
	VendorClass string    `json:"vendor_class,omitempty"`
	Arch        int       `json:"arch"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// DynamicStore persists leases and discovered machines.
type DynamicStore interface {
	SaveDynamic(ctx context.Context, leases []Lease, seen []Discovered) error
	Leases(ctx context.Context) ([]Lease, error)
	DiscoveredPage(ctx context.Context, after string, limit int) ([]Discovered, error)
}

// dynamicItem is a lease or a sighting, queued for writing.
type dynamicItem struct {
	lease *Lease
	seen  *Discovered
}

// DynamicLog persists what the DHCP server learns (leases, discovered
// machines) without ever making a reply wait: see batcher.
type DynamicLog struct {
	store DynamicStore
	b     *batcher[dynamicItem]
}

// NewDynamicLog writes to store.
func NewDynamicLog(store DynamicStore) *DynamicLog {
	write := func(ctx context.Context, items []dynamicItem) error {
		var leases []Lease
		var seen []Discovered
		for _, it := range items {
			if it.lease != nil {
				leases = append(leases, *it.lease)
			}
			if it.seen != nil {
				seen = append(seen, *it.seen)
			}
		}
		return store.SaveDynamic(ctx, leases, seen)
	}
	return &DynamicLog{store: store, b: newBatcher(8192, write)}
}

// SaveLease queues a lease; it never blocks.
func (l *DynamicLog) SaveLease(x Lease) { l.b.record(dynamicItem{lease: &x}) }

// Saw queues a sighting of an unknown machine; it never blocks.
func (l *DynamicLog) Saw(d Discovered) { l.b.record(dynamicItem{seen: &d}) }

// Run writes until ctx ends, then writes what is left.
func (l *DynamicLog) Run(ctx context.Context) error { return l.b.run(ctx) }

// OnWriteError is EventLog.OnWriteError for leases and sightings.
func (l *DynamicLog) OnWriteError(f func(err error, lost int)) { l.b.setOnError(f) }

// Dropped counts what a full buffer or a failed write lost.
func (l *DynamicLog) Dropped() int64 { return l.b.dropped.Load() }

// Leases reads the persisted leases.
func (l *DynamicLog) Leases(ctx context.Context) ([]Lease, error) { return l.store.Leases(ctx) }

// Cursor is where a page of discovered machines that ends with d stops:
// give it as the next page's after.
func (d Discovered) Cursor() string { return rfc(d.LastSeen) + "_" + d.MAC }

// Discovered lists the machines seen and not registered, last seen
// first: at most limit of them after the cursor after ("" from the
// start), and the cursor of the next page ("" when this one is the last).
// A discovered MAC that became a system's is left out, so a page may hold
// fewer than limit machines and still not be the last.
func (l *DynamicLog) Discovered(ctx context.Context, snap *Snapshot, after string, limit int) ([]Discovered, string, error) {
	all, err := l.store.DiscoveredPage(ctx, after, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(all) == limit && limit > 0 {
		next = all[len(all)-1].Cursor()
	}
	out := all[:0]
	for _, d := range all {
		if hw, err := ParseMAC(d.MAC); err == nil {
			if _, known := snap.SystemByMAC(hw); known {
				continue
			}
		}
		out = append(out, d)
	}
	return out, next, nil
}
