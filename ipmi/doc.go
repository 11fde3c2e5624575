// Package ipmi powers machines through their baseboard management
// controllers, with bmclib (github.com/bmc-toolbox/bmclib/v2) underneath:
// IPMI through its ipmitool provider (Debian's ipmitool, which gets the
// password from the environment, never argv) or Redfish through gofish.
//
// A Controller is the one narrow interface the appliance uses: power
// state, on, off (hard), soft off, cycle, reset, and the next boot device.
// Every call has a deadline (Controller.Timeout, default 10 s), transient
// failures are retried with backoff, and an authentication failure is
// returned at once (no retry storm against a BMC that would lock the
// account). Errors name the system and the BMC address. A Poller reads
// every BMC's power state at an interval, a bounded number at a time, and
// reports the changes. The package never
// decides what a machine boots: the registry's lifecycle does; ipmi only
// powers it.
package ipmi
