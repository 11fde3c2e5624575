// Package discovery serves the HTTP endpoints the inventory agent
// (cmd/provision-agent) talks to, on the appliance's boot port beside
// the boot scripts and images:
//
//	POST /discovery/inventory   an inventory.Report: the machine's hardware
//	POST /discovery/enrol       an inventory.Enrolment: how creating its BMC user went
//	GET  /discovery/next?mac=MAC[&token=T]   what to do now
//
// Each answers an inventory.Instruction as JSON. The handler decodes and
// bounds what the machine sends (inventory.Decode: at most
// inventory.MaxBytes, no unknown field), cleans it (Inventory.Clean),
// limits each client address to a few requests a second, and hands the
// rest to a Backend, which decides: the appliance's, which stores the
// inventory in the registry, enrols the BMC, applies the rules and powers
// machines. The Backend's errors map to statuses: ErrForbidden 403 (a
// report from outside a discovery subnet, a wrong inspection token),
// ErrBadRequest 400, ErrNotFound 404, anything else 500; the body is a
// one-line reason the agent prints on the machine's console.
package discovery
