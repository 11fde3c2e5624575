//go:build !race

package dnsconf

// floodRate is the UDP flood's queries a second (race_test.go).
const floodRate = 6000
