package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/inventory"
)

// Machine states.
const (
	MachineDiscovered = "discovered" // reported by its agent, no system yet
	MachineRegistered = "registered" // a system's: accepted, or a system that was inspected
)

// Machine is a machine its inventory agent reported: discovered (no
// system has its boot MAC) or registered (a system's). Inventories are
// kept in the machines table, not in the Snapshot: they are read when
// asked for, never by the protocol servers.
type Machine struct {
	MAC       string              `json:"mac"`              // the boot MAC: the key
	Serial    string              `json:"serial,omitempty"` // its DMI serial
	System    string              `json:"system,omitempty"` // a registered system's name ("" while discovered)
	Subnet    string              `json:"subnet,omitempty"` // the subnet it reported from
	IP        string              `json:"ip,omitempty"`     // the address it reported from
	State     string              `json:"state"`            // MachineDiscovered, MachineRegistered
	Reason    string              `json:"reason,omitempty"` // why it is still discovered (a rule's conflict), or the last enrolment failure
	Rule      string              `json:"rule,omitempty"`   // the rule that matched it last
	Watch     bool                `json:"watch,omitempty"`  // the operator asked its agent to stay up
	BMC       *MachineBMC         `json:"bmc,omitempty"`
	Inventory inventory.Inventory `json:"inventory"`
	FirstSeen time.Time           `json:"first_seen"`
	Updated   time.Time           `json:"updated"`
}

// MachineBMC is a machine's in-band BMC enrolment; its password is
// sealed in the store, never in JSON.
type MachineBMC struct {
	Address  string    `json:"address,omitempty"`
	User     string    `json:"user,omitempty"`
	Enrolled bool      `json:"enrolled"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// Cursor is where a page of machines that ends with m stops: give it as
// the next page's after.
func (m Machine) Cursor() string { return rfc(m.Updated) + "_" + m.MAC }

// machineStore keeps machines (SQLStore is one).
type machineStore interface {
	saveMachine(ctx context.Context, m machineRow) (old *machineRow, err error)
	loadMachines(ctx context.Context, col, key string) ([]machineRow, error)
	machinePage(ctx context.Context, state, after string, limit int) ([]machineRow, error)
	updateMachine(ctx context.Context, mac, col string, v any) (bool, error)
	deleteMachine(ctx context.Context, mac string) (bool, error)
	setMachineBMC(ctx context.Context, mac string, b MachineBMC, password Secret) (bool, error)
	machineBMCPassword(ctx context.Context, mac string) (Secret, error)
}

func (r *Registry) machines() (machineStore, error) {
	ms, ok := r.store.(machineStore)
	if !ok {
		return nil, &Error{ErrUnavailable, "machines: the registry's store keeps no machines"}
	}
	return ms, nil
}

// SetEvents makes the registry report discovery events (a machine
// discovered, a rule matched or in conflict, a BMC enrolled or not) to
// record (EventLog.Record). A discovered machine's events have its MAC
// as their System, a registered one's its system's name.
func (r *Registry) SetEvents(record func(Event)) { r.events.Store(&record) }

func (r *Registry) event(subject, mac, ip, kind, detail string) {
	if f := r.events.Load(); f != nil {
		(*f)(Event{At: r.now(), System: subject, MAC: mac, IP: ip, Kind: kind, Detail: textsafe.Strip(detail)})
	}
}

// Event kinds of discovery.
const (
	EventDiscovered   = "discovered"    // an inventory from an unknown machine
	EventInventory    = "inventory"     // an inventory from a system's machine
	EventRuleMatched  = "rule"          // a rule accepted the machine
	EventRuleConflict = "rule-conflict" // a rule matched, and could not accept it
	EventBMCEnrolled  = "bmc-enrolled"
	EventBMCFailed    = "bmc-enrol-failed"
)

// machineOut is a stored row as shown: the system's name from snap.
func machineOut(snap *Snapshot, row machineRow) *Machine {
	m := row.Machine
	if sys, ok := snap.byID.Get(row.SystemID); ok && row.SystemID != "" {
		m.System = sys.Name
	} else if m.State == MachineRegistered { // its system went another way
		m.State = MachineDiscovered
	}
	return &m
}

// ReportInventory stores what a machine's agent reported from address
// from on subnet: Clean()ed, upserted by inv.MAC. A MAC of a system
// makes it that system's (registered), and what changed since its last
// inventory is put in the system's history (op "inspect").
func (r *Registry) ReportInventory(ctx context.Context, inv inventory.Inventory, subnet, from string) (*Machine, error) {
	m, _, err := r.saveInventory(ctx, inv, subnet, from, nil)
	return m, err
}

// saveInventory is ReportInventory, for sys when it is known (an
// inspection) or the system of inv.MAC; it returns the diff lines.
func (r *Registry) saveInventory(ctx context.Context, inv inventory.Inventory, subnet, from string, sys *System) (*Machine, []string, error) {
	ms, err := r.machines()
	if err != nil {
		return nil, nil, err
	}
	inv = inv.Clean()
	hw, err := ParseMAC(inv.MAC)
	if err != nil {
		return nil, nil, invalidf("inventory: %v", err)
	}
	inv.MAC = hw.String()
	snap := r.Snapshot()
	if sys == nil {
		sys, _ = snap.SystemByMAC(hw)
	}
	row := machineRow{Machine: Machine{MAC: inv.MAC, Serial: inv.DMI.Serial, Subnet: textsafe.Strip(subnet), IP: textsafe.Strip(from),
		State: MachineDiscovered, Inventory: inv, Updated: r.now().UTC()}}
	if sys != nil {
		row.State, row.SystemID = MachineRegistered, sys.ID
	}
	old, err := ms.saveMachine(ctx, row)
	if err != nil {
		return nil, nil, fmt.Errorf("machine %s: %w", inv.MAC, err)
	}
	out := machineOut(snap, row)
	out.FirstSeen = out.Updated
	if old != nil {
		out.FirstSeen, out.Reason, out.Rule, out.Watch, out.BMC = old.FirstSeen, old.Reason, old.Rule, old.Watch, old.BMC
	}
	var diff []string
	switch {
	case sys != nil && old != nil && old.SystemID == sys.ID:
		if diff = inventory.Diff(old.Inventory, inv); len(diff) > 0 {
			err = r.Note(ctx, ObjSystem, sys.Name, "inspect", diffNote(diff))
		}
		r.event(sys.Name, inv.MAC, from, EventInventory, fmt.Sprintf("%d changes", len(diff)))
	case sys != nil:
		err = r.Note(ctx, ObjSystem, sys.Name, "inspect", "inventory stored")
		r.event(sys.Name, inv.MAC, from, EventInventory, "first inventory")
	case old == nil:
		r.event(inv.MAC, inv.MAC, from, EventDiscovered, strings.TrimSpace(fmt.Sprintf("%s %s serial %s", inv.DMI.Vendor, inv.DMI.Product, inv.DMI.Serial)))
	}
	return out, diff, err
}

// maxDiffNote bounds the history note of an inventory's changes.
const maxDiffNote = 4 << 10

func diffNote(lines []string) string {
	n := strings.Join(lines, "; ")
	if len(n) > maxDiffNote {
		n = strings.ToValidUTF8(n[:maxDiffNote], "") + " ..."
	}
	return n
}

// Machine finds a machine by its boot MAC or its DMI serial: ErrNotFound,
// or ErrConflict naming the machines when two share the serial.
func (r *Registry) Machine(ctx context.Context, key string) (*Machine, error) {
	row, err := r.machineRow(ctx, key)
	if err != nil {
		return nil, err
	}
	return machineOut(r.Snapshot(), *row), nil
}

func (r *Registry) machineRow(ctx context.Context, key string) (*machineRow, error) {
	ms, err := r.machines()
	if err != nil {
		return nil, err
	}
	col := "serial"
	if hw, err := ParseMAC(key); err == nil {
		col, key = "mac", hw.String()
	}
	rows, err := ms.loadMachines(ctx, col, key)
	if err != nil {
		return nil, fmt.Errorf("machine %s: %w", key, err)
	}
	switch len(rows) {
	case 0:
		return nil, notFound("machine", key)
	case 1:
		return &rows[0], nil
	}
	macs := make([]string, len(rows))
	for i := range rows {
		macs[i] = rows[i].MAC
	}
	return nil, conflictf("machine %s: serial %s is that of machines %s: give the MAC", key, key, strings.Join(macs, " and "))
}

// Machines lists machines of state ("" every state), last updated
// first: at most limit after the cursor after ("" from the start), and
// the next page's cursor ("" when this one is the last).
func (r *Registry) Machines(ctx context.Context, state string, after string, limit int) ([]Machine, string, error) {
	ms, err := r.machines()
	if err != nil {
		return nil, "", err
	}
	if state != "" && state != MachineDiscovered && state != MachineRegistered {
		return nil, "", invalidf("machines: state %q is not %s or %s", state, MachineDiscovered, MachineRegistered)
	}
	rows, err := ms.machinePage(ctx, state, after, limit)
	if err != nil {
		return nil, "", err
	}
	snap := r.Snapshot()
	out := make([]Machine, len(rows))
	for i := range rows {
		out[i] = *machineOut(snap, rows[i])
	}
	next := ""
	if len(out) == limit && limit > 0 {
		next = out[len(out)-1].Cursor()
	}
	return out, next, nil
}

// RemoveMachine forgets a discovered machine (a registered one's
// inventory goes with its system).
func (r *Registry) RemoveMachine(ctx context.Context, key string) error {
	row, err := r.machineRow(ctx, key)
	if err != nil {
		return err
	}
	if m := machineOut(r.Snapshot(), *row); m.System != "" {
		return invalidf("machine %s is system %s's: its inventory goes when the system is removed", m.MAC, m.System)
	}
	ms, _ := r.machines()
	_, err = ms.deleteMachine(ctx, row.MAC)
	return err
}

// WatchMachine makes the agent of a machine stay up (watch) or power
// off when it is done.
func (r *Registry) WatchMachine(ctx context.Context, key string, watch bool) error {
	row, err := r.machineRow(ctx, key)
	if err != nil {
		return err
	}
	ms, _ := r.machines()
	v := 0
	if watch {
		v = 1
	}
	_, err = ms.updateMachine(ctx, row.MAC, "watch", v)
	return err
}

// setReason records why a machine is still discovered.
func (r *Registry) setReason(ctx context.Context, mac, rule, reason string) error {
	ms, err := r.machines()
	if err != nil {
		return err
	}
	if _, err := ms.updateMachine(ctx, mac, "reason", reason); err != nil {
		return err
	}
	_, err = ms.updateMachine(ctx, mac, "rule", rule)
	return err
}

// MachineBMCPassword is the password enrolled in a machine's BMC.
func (r *Registry) MachineBMCPassword(ctx context.Context, mac string) (Secret, error) {
	ms, err := r.machines()
	if err != nil {
		return "", err
	}
	hw, err := ParseMAC(mac)
	if err != nil {
		return "", err
	}
	return ms.machineBMCPassword(ctx, hw.String())
}

// SetMachineBMC records an enrolment: Enrolled with the password it set
// (sealed; "" keeps the stored one), or not, with Error. A failure is
// also the machine's reason. Neither Enrolled nor Error is an enrolment
// under way: its password is kept, and nothing else said.
func (r *Registry) SetMachineBMC(ctx context.Context, mac string, b MachineBMC, password Secret) error {
	ms, err := r.machines()
	if err != nil {
		return err
	}
	hw, err := ParseMAC(mac)
	if err != nil {
		return err
	}
	mac = hw.String()
	b.Address, b.User, b.Error = textsafe.Strip(b.Address), textsafe.Strip(b.User), textsafe.Strip(b.Error)
	if b.Enrolled {
		if _, err := netip.ParseAddr(b.Address); err != nil {
			return invalidf("machine %s: bmc address %q: %v", mac, b.Address, err)
		}
		b.Error = ""
	}
	if b.At.IsZero() {
		b.At = r.now().UTC()
	}
	ok, err := ms.setMachineBMC(ctx, mac, b, password)
	if err != nil {
		return fmt.Errorf("machine %s: %w", mac, err)
	}
	if !ok {
		return notFound("machine", mac)
	}
	if b.Enrolled {
		r.event(mac, mac, b.Address, EventBMCEnrolled, "user "+b.User+" at "+b.Address)
		_, err = ms.updateMachine(ctx, mac, "reason", "")
		return err
	}
	if b.Error == "" { // under way: the password kept until the agent says how it went
		return nil
	}
	reason := "bmc enrolment failed: " + b.Error
	r.event(mac, mac, b.Address, EventBMCFailed, b.Error)
	_, err = ms.updateMachine(ctx, mac, "reason", reason)
	return err
}

// ReserveAddresses names the appliance's own addresses, which ip auto
// (FreeIP, through AcceptMachine and the rules) never hands out.
func (r *Registry) ReserveAddresses(addrs ...netip.Addr) { r.own.Store(&addrs) }

func (r *Registry) reserved() []netip.Addr {
	if p := r.own.Load(); p != nil {
		return *p
	}
	return nil
}

// IPAuto asks for the lowest free address of a subnet outside its pool
// (Snapshot.FreeIP).
const IPAuto = "auto"

// Accept says how a discovered machine becomes a system.
type Accept struct {
	Name, Profile string
	IP            string // IPAuto (the lowest free address of Subnet outside its pool) or an address; "" = auto
	Subnet        string // "" = the subnet the machine reported from
	Reinstall     bool   // the system is added with netboot on, pending a build
}

// AcceptMachine adds a discovered machine as a system: its NICs' MACs
// (the boot MAC first), its enrolled BMC with the sealed password, and
// links its inventory to it, in one commit. A conflict is ErrConflict
// naming the other object.
func (r *Registry) AcceptMachine(ctx context.Context, key string, a Accept) (*System, error) {
	row, err := r.machineRow(ctx, key)
	if err != nil {
		return nil, err
	}
	return r.accept(ctx, row, a, "", false)
}

// accept adds row's machine as a system (rule "": by hand); dryRun
// validates and writes nothing.
func (r *Registry) accept(ctx context.Context, row *machineRow, a Accept, rule string, dryRun bool) (*System, error) {
	if m := machineOut(r.Snapshot(), *row); m.System != "" {
		return nil, conflictf("machine %s is already system %s", m.MAC, m.System)
	}
	sys := System{Name: a.Name, Profile: a.Profile, MACs: []string{row.MAC}}
	for _, n := range row.Inventory.NICs {
		if _, err := ParseMAC(n.MAC); err == nil {
			sys.MACs = append(sys.MACs, n.MAC)
		}
	}
	if b := row.BMC; b != nil && b.Enrolled {
		ms, _ := r.machines()
		pw, err := ms.machineBMCPassword(ctx, row.MAC)
		if err != nil {
			return nil, err
		}
		sys.BMC = &BMC{Address: b.Address, User: b.User, Password: pw}
	}
	note := "accepted from discovery (by " + cmp.Or(ActorOf(ctx).Name, "hand") + ")"
	if rule != "" {
		note = "accepted from discovery (rule " + rule + ")"
	}
	var out *System
	_, err := r.mutate(ctx, dryRun, func(n *Snapshot) ([]Op, error) {
		subnet := a.Subnet
		if subnet == "" {
			subnet = row.Subnet
		}
		sys.IP = a.IP
		if a.IP == "" || a.IP == IPAuto {
			ip, err := n.FreeIP(subnet, r.reserved()...)
			if err != nil {
				return nil, fmt.Errorf("machine %s: %w", row.MAC, err)
			}
			sys.IP = ip
		}
		var err error
		if out, err = n.putSystem("", sys, false, r.now()); err != nil {
			return nil, err
		}
		if !a.Reinstall || out.Status == StateDiskless { // it keeps what it has on its disk
			c := out.Clone()
			if c.Status == StatePending {
				n.enter(&c, StateInstalled, r.now())
			}
			c.Netboot = c.Status == StateDiskless
			n.unindex(out)
			n.index(&c)
			out = &c
		}
		o := op(ObjSystem, "", nil, out, out.Name, "add")
		o.Audit.Note = strings.TrimPrefix(o.Audit.Note+"; "+note, "; ")
		o.Link = &MachineLink{MAC: row.MAC, SystemID: out.ID, Rule: rule}
		return []Op{o}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FreeIP is the lowest address of the subnet that is outside its pool
// and is none of its network, broadcast, gateway, next server or DNS
// servers, nor any system's IP, BMC or interface address.
func (s *Snapshot) FreeIP(subnet string, skip ...netip.Addr) (string, error) {
	e, ok := s.subnets[subnet]
	if !ok {
		return "", &Error{ErrInvalid, fmt.Sprintf("subnet %q does not exist (ip auto needs the subnet to take an address from)", subnet)}
	}
	p := e.prefix.Masked()
	for ip := p.Addr().Next(); ip.IsValid() && p.Contains(ip); ip = ip.Next() {
		if e.inPool(ip) || e.reservedRole(ip) != "" || s.AddressInUse(ip) || ip == broadcast(p) {
			continue
		}
		if e.NextServer == ip.String() || containsString(e.DNSServers, ip.String()) || slices.Contains(skip, ip) {
			continue
		}
		return ip.String(), nil
	}
	return "", conflictf("subnet %s: no free address outside the pool", subnet)
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// isConflict reports an error that leaves a machine discovered with a
// reason (rather than failing the call): the registry refused the
// system a rule made.
func isConflict(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrInUse)
}
