// Package inventory is what a machine says about its hardware, the way
// Ironic's inspector and Foreman's discovery image describe a node: its
// DMI identity, boot mode, CPUs, memory, disks, NICs with the switch port
// each one's LLDP neighbour names, its BMC's LAN settings and its PCI
// devices (Inventory). The inventory agent (cmd/provision-agent, package
// inventory/collect) gathers it in the boot environment and posts it to
// the appliance, which keeps it in the registry.
//
// Everything in an Inventory came from the network: Clean strips every
// string of its control characters and bounds how much of it there is
// before it is stored or shown, and Decode reads at most MaxBytes of it.
//
// The agent and the appliance speak through Report, Instruction and
// Enrolment, as JSON over HTTP (see the appliance's /discovery/
// endpoints):
//
//	agent                                    appliance
//	POST /discovery/inventory  Report    ->  stores it; <- Instruction
//	  Instruction enrol: create the BMC user in-band
//	POST /discovery/enrol      Enrolment ->  checks the BMC over the LAN; <- Instruction
//	GET  /discovery/next?mac=MAC         ->  <- Instruction (wait: ask again in Poll s)
//	  Instruction poweroff or reboot: the agent does it
package inventory
