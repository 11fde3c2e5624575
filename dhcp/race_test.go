//go:build race

package dhcp

// perfRate is perfdhcp's exchange rate: the race detector slows the server
// several times, so it is measured at a lower rate.
const perfRate = 500
