package registry

import "context"

// Store keeps the registry durable. Implementations enforce uniqueness of
// object names, MACs, hostnames and addresses with their own constraints
// inside transactions, refuse to remove an image or profile still
// referenced, and write each commit's audit records in the same
// transaction. SQLiteStore is the embedded one; a PostgreSQL Store can be
// added for several appliances sharing one registry.
type Store interface {
	// Load reads everything, for building the first Snapshot.
	Load(ctx context.Context) (*Data, error)
	// Commit applies ops atomically and returns the new serial.
	Commit(ctx context.Context, ops []Op) (serial uint64, err error)
	// History lists audit records, newest last; name "" means all.
	History(ctx context.Context, name string, limit int) ([]Change, error)
	Close() error
}

// Data is the whole content of a Store.
type Data struct {
	Serial   uint64
	Subnets  []Subnet
	Images   []Image
	Profiles []Profile
	Systems  []System
	Settings map[string]string
	Records  []string // static DNS records, zone-file text
}
