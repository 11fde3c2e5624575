// Package console records machines' consoles: serial-over-LAN (IPMI 2.0
// SOL) through each system's BMC, kept on disk in a bounded Ring per
// system and handed live to any number of readers and to one interactive
// operator.
//
// A Manager holds at most one SOL session per system, shared by everyone
// who reads it:
//
//	m := console.NewManager(console.ManagerConfig{Dir: "/var/lib/provision/console"})
//	m.Capture("web001", console.BMC{Address: "10.0.0.5", User: "admin", Password: pw})
//	ch, _ := m.Follow(ctx, "web001")             // live bytes, read-only
//	err := m.Attach(ctx, "web001", stdin, stdout) // typing, one operator at a time
//	m.Status("web001")                           // state, since, last error, bytes
//	m.Stop("web001")
//
// A session is the real ipmitool:
//
//	ipmitool -I lanplus -C 3 -H ADDRESS -p PORT -U USER -E -N 1 -R 2 -e '\x1e' sol activate
//
// under a pseudo-terminal (it refuses to run its SOL loop without one),
// with the password in its environment (IPMI_PASSWORD, never argv) and
// its error messages on a pipe of their own, so that only the machine's
// bytes reach the Ring. Before each activation "sol deactivate" clears a
// session a crash left open on the BMC, and after Stop it releases the
// BMC's one SOL payload for other tools.
//
// ipmitool's escape character (EscapeChar, Ctrl-^ rather than its default
// '~') is never triggered by what an operator types: Attach doubles it
// where ipmitool would read it as an escape (after a line end), which
// ipmitool sends on as one literal byte. Detaching is the client's
// business: the CLI's attach ends on DetachSequence (Ctrl-] then '.'),
// which it does not send.
//
// Bounds: at most ManagerConfig.MaxSessions sessions (default 256);
// Capture beyond it is refused with an error that names the system. A
// session that ends (the BMC dropped it, ipmitool exited, the BMC went
// away: ipmitool notices a silent BMC by its keepalive, within about 40 s)
// is opened again after an exponential backoff with jitter (1 s doubling
// to 60 s by default), until Stop. A BMC that refuses the user or password
// is reported once (Status, one log line) and tried again only at the
// long end of the backoff; a BMC without SOL (the payload disabled or the
// command unknown) is reported once and not tried again until Capture is
// called with other BMC settings.
package console
