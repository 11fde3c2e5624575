// Package registry is the single source of truth of the appliance: subnets,
// images, profiles, systems and global settings, kept in a Store (SQLite on
// disk, or PostgreSQL) and published to the protocol servers as an immutable in-memory
// Snapshot.
//
// Writers go through a Registry, which validates a change against the
// current Snapshot (IP, MAC, name and hostname conflicts, subnet rules),
// commits it together with its audit record in one Store transaction, and
// then swaps in the next Snapshot atomically. The Store enforces uniqueness
// again with its own constraints, so a conflict can never be committed even
// by a second writer the Registry does not know about.
//
// Readers on hot paths (a DHCP packet, a DNS query) call Registry.Snapshot
// and use its maps; they never touch the database.
//
// The people who may use the API are Users, each with API Tokens of which
// only the SHA-256 is stored (Snapshot.TokenFor finds a request's token
// in memory). A change made with a scoped principal in its context
// (WithPrincipal) is refused, as an access.Denied, unless every object it
// changes is a system in the principal's scopes, before and after.
package registry
