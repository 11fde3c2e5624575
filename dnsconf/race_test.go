//go:build race

package dnsconf

// floodRate is the UDP flood's queries a second: the race detector slows
// the server several times (the sender's syscalls much less), so that it
// floods at a lower rate.
const floodRate = 1500
