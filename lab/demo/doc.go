// Package demo is `provision demo`: the demo lab, on package lab. It makes
// a network namespace with a bridge, runs the appliance there (provision
// serve: DHCP, TFTP, HTTP and DNS on the bridge), registers two machines
// through the CLI, and network-boots them as QEMU VMs:
//
//	lvs01  diskless: the busybox LVS role (roles.LVS), booted into tmpfs;
//	       its boot hook writes keepalived.conf from its settings, then
//	       reads lvs.vrid again over the appliance's DNS
//	web01  installed: the lab installer fetches its template, writes the
//	       disk and reports done; the next boot is from the disk
//
// Run prints a live view (every boot event, from provision events
// --follow), checks what each machine did, and removes everything it made
// when it returns.
package demo
