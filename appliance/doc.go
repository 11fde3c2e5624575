// Package appliance is the running server: it opens the data directory
// and the registry, builds every server over them, runs them and the
// background loops in one errgroup, and stops them all.
//
//	a, err := appliance.Open(ctx, cfg, log) // listeners open, nothing served yet
//	...
//	err = a.Run(ctx)                       // serves until ctx ends
//
// Open opens, in order: the store (SQLite in DATA/registry.db, or the
// PostgreSQL database of Config.Database) sealed with the secret key, the
// registry and its Snapshot, the image store, the DNS server and its
// zone, and the listeners: HTTP (boot routes, /ks, data.cdb, and the API
// and dashboard unless Config.API gives them a TLS listener of their
// own), DHCP on Config.DHCPInterface (and the PXE port in proxy mode),
// DNS on UDP and TCP, TFTP. A listener that cannot open fails Open and
// names the flag that moves it.
//
// Run starts, in one errgroup with Run's context: each server's socket
// loop; the event and lease writers (registry.EventLog, DynamicLog); the
// install lifecycle (builds: deadlines, and the power-off of failed
// builds, beside PowerForBuild which the API's reinstall calls); the BMC
// power poller; the rebuild of stale diskless boot environments; the
// image sync from --peer appliances; the follower of a shared database;
// and SIGHUP (the API's certificate read again). It tells systemd READY,
// RELOADING and STOPPING. The first loop that fails stops them all.
//
// The console capture (consoles, over console.Manager) records the
// serial console (IPMI SOL) of a system with an IPMI BMC while a build
// runs (pending, installing), while its inspection is asked, and while
// an operator asked for it or is attached; once no reason remains it
// goes on for a linger of 30 s after a build or an inspection (the reboot
// and the first lines after it), and stops at once after an operator's
// ask alone or for a removed system. One loop decides, woken by every
// registry change and operator ask; a build that fails while captured
// gets its last 20 console lines in its history and its last line on
// its timeline. A Redfish BMC's console is not captured (Status says
// so). Config.ConsoleSessions bounds the sessions (0: no capture, the
// API's console routes answer 501; off by default with Dev, as the power
// poll), Config.ConsoleDir holds the Rings;
// /metrics counts the sessions by state and their reconnects.
//
// Each server is built from its protocol package's pure reply logic and
// the narrow interfaces it declares, satisfied by package bind's adapters
// over the registry's Snapshot: appliance composes, bind adapts, the
// protocol packages answer.
//
// Config is the configuration after the file and the flags (which
// cmd/provision reads): Defaults, Complete and Check; a Config it refuses
// is an error matching ErrConfig.
package appliance
