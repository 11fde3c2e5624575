// Package cow has Map, a hash map whose Clone costs the same whatever its
// size: the registry's Snapshot and the DNS zone are new versions of a
// large map with a few entries changed, made at every write.
//
// A Map is split into 256 shards by the hash of the key. Clone copies the
// table of shards, not the shards; the first write to a shard after a
// Clone copies that shard alone. A write therefore costs in proportion to
// one shard (1/256 of the map), and lookups cost one hash and one Go map
// lookup. No persistent map in the modules this project can use does
// both: go-immutable-radix orders keys as bytes and allocates the key of
// every lookup, and a B-tree costs log n comparisons.
//
// A Map is not safe for concurrent writes (Clone is one); a Map nobody
// writes any more (a published version) is safe for concurrent reads,
// also while a clone of it is being written.
package cow
