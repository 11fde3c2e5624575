// Package agent is the inventory agent's loop (cmd/provision-agent): it
// posts the machine's inventory to the appliance and does what the
// appliance answers, until it is told to power off or reboot.
//
//	POST SERVER/discovery/inventory  inventory.Report     -> Instruction
//	wait:     GET SERVER/discovery/next?mac=MAC[&token=T] after Poll s -> Instruction
//	enrol:    create the BMC user in-band, read the LAN settings again,
//	          POST SERVER/discovery/enrol inventory.Enrolment (a failure too) -> Instruction
//	poweroff, reboot: Config.Power does it; Run returns
//
// An enrolment whose BMC made the user but refused it SOL (Set User
// Payload Access; OpenIPMI's ipmi_sim does) is posted OK, with the
// refusal in its Error ("ipmi: user provision (slot 3): sol: ...").
//
// An appliance that cannot be reached, or answers with an error, is
// asked again after a backoff (1 s, doubling to 30 s): the agent never
// gives up, since nobody is at the machine's console to restart it. It
// prints what it does on Config.Log (the console), never the password of
// the BMC user it creates.
package agent
