package registry

import (
	"context"
	"errors"

	"github.com/provision/provision/kickstart"
)

// Store keeps the registry durable. Implementations enforce uniqueness of
// object names, MACs, hostnames and addresses with their own constraints
// inside transactions, refuse to remove an image or profile still
// referenced, and write each commit's audit records in the same
// transaction. SQLStore is one, on SQLite (the embedded default) or on
// PostgreSQL (a database several appliances share).
type Store interface {
	// Load reads everything, for building the first Snapshot.
	Load(ctx context.Context) (*Data, error)
	// Commit applies ops, validated against the Snapshot at serial base,
	// atomically and returns the new serial (base+1). It refuses them
	// with errStale, writing nothing, when the store's serial is no
	// longer base: another writer committed since, and the change must be
	// validated again on what it wrote.
	Commit(ctx context.Context, base uint64, ops []Op) (serial uint64, err error)
	// HistoryBefore lists the last limit audit records with an id below
	// before (0: all), newest last; name "" means all.
	HistoryBefore(ctx context.Context, name string, before int64, limit int) ([]Change, error)
	// Audit appends history records that go with no change of the
	// registry (a power action, say).
	Audit(ctx context.Context, cs []Change) error
	// InstallLog returns the log the installer of system last reported
	// with a failure (ErrNotFound when there is none).
	InstallLog(ctx context.Context, system string) (*InstallLog, error)
	Close() error
}

// errStale is Commit's refusal of a change validated at an older serial
// than the store's.
var errStale = errors.New("registry: the database changed since the change was validated")

// Data is the whole content of a Store.
type Data struct {
	Serial    uint64
	Epoch     uint64 // the database's creation time, Unix seconds
	Instance  string // the database's random identity
	Subnets   []Subnet
	Images    []Image
	Profiles  []Profile
	Systems   []System
	Settings  map[string]string
	Secrets   map[string]Secret // the global secret settings, opened
	Records   []string          // static DNS records, zone-file text
	Templates []kickstart.Template
	Rules     []Rule
	Hooks     []Hook // secrets opened
	Users     []User
	Tokens    []Token // with their hashes
}

// InstallLog is what a failed installer posted (its last MaxInstallLog
// bytes) and how much it sent.
type InstallLog struct {
	System string `json:"system"`
	At     string `json:"at"`   // RFC 3339, UTC
	Size   int64  `json:"size"` // bytes the installer sent
	Log    []byte `json:"-"`    // the last MaxInstallLog of them
}

// MaxInstallLog is how much of a failed installer's log is kept.
const MaxInstallLog = 64 << 10
