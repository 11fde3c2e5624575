//go:build !race

package dhcp

// perfRate is perfdhcp's exchange rate (exchanges per second).
const perfRate = 2000
