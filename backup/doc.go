// Package backup writes an appliance's whole state as one tar archive and
// restores it into an empty data directory.
//
// The archive mirrors the data directory: registry.db (a consistent copy
// of the registry, SQLite whatever the appliance's store: objects,
// history, boot events, leases, discovered machines, with BMC passwords
// and build tokens sealed as they are), images/sha256/XX/DIGEST (every
// image file), and with secrets the key that seals them (secret.key), the
// API tokens and the API listener's TLS key and certificate. The manifest
// (provision-backup.json) comes last and lists every file with its size
// and sha256: an archive cut short has none, and is refused, as is one
// whose files do not match it. Restore extracts into a directory beside
// the target, checks everything, and only then renames it into place.
package backup
