// Package dnsconf turns the registry into a DNS zone and serves it: the
// appliance's authoritative DNS server (RFC 1034/1035) with every setting
// published as a TXT record, so that a booting machine or an installed
// system can read its configuration with one DNS query.
//
// BuildZone makes an immutable Zone from a registry Snapshot (any Source).
// For the zone "dsas", the appliance at 10.0.0.2, global setting
// lvs.vrid=100 and system web001 (10.0.0.11, profile web, which sets
// role=frontend) in subnet 10.0.0.0/24, the zone holds:
//
//	dsas.                          SOA   ns.dsas. hostmaster.dsas. SERIAL 3600 600 604800 60
//	dsas.                          NS    ns.dsas.
//	ns.dsas.                       A     10.0.0.2
//	lvs.vrid.dsas.                 TXT   "100"                 global setting KEY at KEY.ZONE
//	web001.dsas.                   A     10.0.0.11             NAME.ZONE (and its hostname, if inside the zone)
//	profile.web001._host.dsas.     TXT   "web"                 the system's profile
//	role.web001._host.dsas.        TXT   "frontend"            effective settings at KEY.NAME._host.ZONE
//	0.0.10.in-addr.arpa.           SOA   ns.dsas. hostmaster.dsas. SERIAL 3600 600 604800 60
//	0.0.10.in-addr.arpa.           NS    ns.dsas.
//	11.0.0.10.in-addr.arpa.        PTR   web001.dsas.          the system's hostname
//
// The records under NAME._host.ORIGIN, most of a fleet's zone, are not
// stored in it: they are a view of the Snapshot it was built from, made
// when a query or data.cdb needs them (hosts.go); the registry owns that
// subtree, so nothing else can stand there. So are the systems' A and PTR
// records, where the build's rules give them to the system the Snapshot
// finds by name, hostname or IP (addrs.go); the zone stores only the
// others, and the empty non-terminals above them.
//
// SERIAL is the registry serial, so it goes up with every committed change.
// Values longer than 255 bytes are split into several character-strings
// (RFC 1035 3.3.14); a client joins them back (JoinTXT).
//
// Server answers from the current Zone, held in an atomic pointer and
// swapped when the registry changes; a query never touches the database.
// With Config.CDBDir it keeps the data.cdb it serves on disk, so that a
// restart serves it at once, for its version only, and reads the records
// of its data.cdb from that file instead of keeping them in memory
// (persist.go).
// The reply is computed by the pure function Answer, which the tests call
// without sockets.
//
// Names outside the zone and its reverse zones are REFUSED, except to the
// clients Config.Recursion allows (the appliance's own machines and this
// host): their queries of class IN are forwarded to the upstream
// resolvers of Config.Forward, tried in order, each for at most
// Config.UpstreamTimeout (2 s) and all for at most twice that; after a
// timeout, an error, SERVFAIL or REFUSED the next one is tried, and when
// none answers the reply is SERVFAIL. The reply carries the client's ID,
// question, RD and CD bits, RA, and our EDNS0 record; when it does not fit
// the client's UDP buffer it is sent empty with TC, as Answer's are, and
// over TCP an upstream's truncated UDP answer is asked again over TCP.
// Answers are cached by name (case-insensitive), type, class and the DO
// and CD bits: an answer for the smallest TTL of its records, at most an
// hour; NXDOMAIN and NODATA for the negative TTL of their SOA (RFC 2308),
// at most five minutes; SERVFAIL and truncated answers not at all. The
// cache holds DefaultCacheSize answers and DefaultCacheBytes of them and
// then drops one at random (an expired one first); TTLs served from it
// go down with its age. The clients that may recurse get RA on the zone's
// answers too; the others get neither RA nor a forwarded answer, so that
// the server is no open resolver.
//
// Since the addresses of the clients that may recurse can be forged,
// forwarding is bounded: identical questions in flight are asked once;
// the upstream queries share a few connected UDP sockets per upstream,
// matched by ID and question (upstream.go); the queries waiting for an
// upstream are bounded in all (SERVFAIL past it) and per client
// (REFUSED), and a client's queries that miss the cache are rate
// limited (REFUSED). DNS over TCP (tcp.go) bounds its connections in
// all and per client, times out idle ones, and backs off when accept
// fails. A malformed query gets FORMERR as from NSD (Answer, and
// parse for what only the wire shows: a name pointing into the header).
package dnsconf
