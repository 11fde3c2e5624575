package registry

import (
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// DefaultBMCProvider is how a BMC is spoken to when no provider is given:
// IPMI (lanplus). The other is "redfish".
const DefaultBMCProvider = "ipmi"

// normalizeSystem validates the fields of sys that do not depend on other
// objects and puts them in canonical form.
func (s *Snapshot) normalizeSystem(sys System) (System, error) {
	return normalizeSystemIn(s.Zone, sys)
}

// normalizeSystemIn is normalizeSystem in a snapshot of zone: it reads
// nothing else, and a large import's decode workers run it (normalized).
func normalizeSystemIn(zone string, sys System) (System, error) {
	// Not copied: only read, and replaced by new ones below (on an
	// error, sys is dropped).
	macs, settings := sys.MACs, sys.Settings
	sys.MACs, sys.Settings = nil, nil
	sys = sys.Clone()
	sys.MACs, sys.Settings = macs, settings
	if err := CheckSystemName(sys.Name); err != nil {
		return sys, err
	}
	if sys.Hostname == "" {
		sys.Hostname = sys.Name + "." + zone
	}
	h, err := CanonicalHostname(sys.Hostname)
	if err != nil {
		return sys, err
	}
	sys.Hostname = h
	if err := normalizeInterfaces(&sys); err != nil {
		return sys, err
	}
	if len(sys.MACs) == 0 {
		return sys, invalidf("system %s: needs at least one MAC", sys.Name)
	}
	macs = make([]string, 0, len(sys.MACs))
	for _, m := range sys.MACs {
		c, err := CanonicalMAC(m)
		if err != nil {
			return sys, err
		}
		if !slices.Contains(macs, c) {
			macs = append(macs, c)
		}
	}
	sys.MACs = macs
	if sys.IP, err = CanonicalIPv4("ip", sys.IP); err != nil {
		return sys, err
	}
	if sys.Status != "" && !slices.Contains(Statuses, sys.Status) {
		return sys, invalidf("system %s: status %q must be one of %v", sys.Name, sys.Status, Statuses)
	}
	if sys.Settings, err = canonicalSettings(sys.Settings); err != nil {
		return sys, err
	}
	if err := normalizeBMC(sys.BMC); err != nil {
		return sys, err
	}
	if b := sys.BMC; b != nil && b.Provider == "ipmi" && len(b.Password) > maxIPMIPassword {
		return sys, invalidf("system %s: the bmc password is %d bytes, IPMI takes at most %d", sys.Name, len(b.Password), maxIPMIPassword)
	}
	return sys, nil
}

// maxIPMIPassword is IPMI 2.0's longest password, in bytes.
const maxIPMIPassword = 20

func normalizeBMC(b *BMC) error {
	if b == nil {
		return nil
	}
	a, err := CanonicalIPv4("bmc address", b.Address)
	if err != nil {
		return err
	}
	b.Address = a
	switch b.Provider {
	case "", "ipmitool": // "ipmitool": what earlier versions stored
		b.Provider = DefaultBMCProvider
	case "ipmi", "redfish":
	default:
		return invalidf("bmc provider %q: want ipmi or redfish", b.Provider)
	}
	if b.Port < 0 || b.Port > 65535 {
		return invalidf("bmc port %d: want 1 to 65535 (0: the provider's default)", b.Port)
	}
	if err := normalizeTLS(b); err != nil {
		return err
	}
	b.PasswordSet = b.Password != ""
	return nil
}

// normalizeTLS checks how a Redfish BMC's certificate is trusted: a
// fingerprint (sha256:HEX, HEX or openssl's AB:CD:... form) becomes 64
// lower-case hex digits; it and Insecure are for Redfish only, one or
// the other.
func normalizeTLS(b *BMC) error {
	if b.Fingerprint == "" && !b.Insecure {
		return nil
	}
	if b.Provider != "redfish" {
		return invalidf("bmc fingerprint and insecure are for redfish; provider %s does not use TLS", b.Provider)
	}
	if b.Fingerprint == "" {
		return nil
	}
	if b.Insecure {
		return invalidf("bmc: a fingerprint and insecure at once: the fingerprint pins the certificate, insecure checks none")
	}
	fp := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(b.Fingerprint), "sha256:"), ":", ""))
	if _, err := hex.DecodeString(fp); err != nil || len(fp) != 64 {
		return invalidf("bmc fingerprint %q: want the certificate's SHA-256, 64 hex digits (sha256:HEX)", b.Fingerprint)
	}
	b.Fingerprint = fp
	return nil
}

// putSystem adds (prev == "") or replaces the system prev. A replacement
// without a BMC password keeps the current one. The lifecycle state is
// the server's: see lifeOf. With imported set, the document's state is
// kept (a build under way gets a fresh token and deadline).
func (s *Snapshot) putSystem(prev string, in System, imported bool, now time.Time) (*System, error) {
	return s.putNormalized(prev, in, nil, imported, now)
}

// putNormalized is putSystem with in's normalizeSystem already done
// (norm; nil: not yet).
func (s *Snapshot) putNormalized(prev string, in System, norm *normalized, imported bool, now time.Time) (*System, error) {
	if err := checkIfaceRemoval(s.systems.At(prev), in); err != nil {
		return nil, err
	}
	sys, err := norm.of(s, in)
	if err != nil {
		return nil, err
	}
	old := s.systems.At(prev)
	if prev != "" && old == nil {
		return nil, notFound(ObjSystem, prev)
	}
	if err := keepPassword(old, &sys); err != nil {
		return nil, err
	}
	if old != nil && !imported { // an inspection asked for outlives an edit (FinishInspect ends it)
		sys.InspectToken = old.InspectToken
	}
	if sys.SecretSettings, err = mergeSecrets("system "+sys.Name, sys.Settings, sys.SecretSettings, secretsOf(old)); err != nil {
		return nil, err
	}
	s.assignID(old, &sys, imported)
	if err := s.checkSystem(prev, &sys); err != nil {
		return nil, err
	}
	if err := checkArgsOf(ObjSystem, sys.Name, sys.KernelArgs); err != nil {
		return nil, err
	}
	if err := s.checkArgsLength(&sys, ObjSystem); err != nil {
		return nil, err
	}
	s.lifeOf(old, &sys, imported, now)
	if err := s.checkRender(&sys); err != nil {
		return nil, err
	}
	if old != nil {
		s.unindex(old)
	}
	s.index(&sys)
	return &sys, nil
}

// lifeOf sets the lifecycle fields of sys, added or replacing old: a new
// system is pending when its profile has a template, else diskless; an
// edit keeps the state unless the profile change gains or loses a
// template (then the state is that of a new system). Only a reinstall
// ever moves an installed or failed system back to pending. An imported
// system keeps the document's state when its profile installs.
func (s *Snapshot) lifeOf(old, sys *System, imported bool, now time.Time) {
	want := initialState(s.profiles[sys.Profile])
	if imported && sys.Status != "" && (sys.Status == StateDiskless) == (want == StateDiskless) {
		s.importedLife(old, sys, now)
		return
	}
	if old != nil {
		sys.Status, sys.StatusSince, sys.Deadline, sys.BuildToken = old.Status, old.StatusSince, old.Deadline, old.BuildToken
		if (old.Status == StateDiskless) == (want == StateDiskless) {
			return
		}
	}
	s.enter(sys, want, now)
}

// enter puts sys in state at now: entering pending starts a build (a
// fresh token and deadline, netboot on); any other state has none.
func (s *Snapshot) enter(sys *System, state string, now time.Time) {
	sys.Status, sys.StatusSince, sys.Deadline, sys.BuildToken = state, stamp(now), "", ""
	if state == StatePending {
		sys.BuildToken, sys.Deadline = newToken(), stamp(now.Add(s.installTimeout(sys.Profile)))
		sys.Netboot = true
	}
}

// importedLife keeps an imported system's state. A build under way keeps
// its deadline and the token it has (in the document, exported with
// secrets, or here already); without one it gets a new token.
func (s *Snapshot) importedLife(old, sys *System, now time.Time) {
	if sys.StatusSince == "" {
		sys.StatusSince = stamp(now)
	}
	if !sys.Building() {
		sys.Deadline, sys.BuildToken = "", ""
		return
	}
	if sys.BuildToken == "" && old != nil && old.Building() {
		sys.BuildToken = old.BuildToken
	}
	if sys.BuildToken == "" {
		sys.BuildToken = newToken()
	}
	if sys.Deadline == "" {
		sys.Deadline = stamp(now.Add(s.installTimeout(sys.Profile)))
	}
}

// keepPassword keeps the current BMC password of an edit that gives
// none, unless the BMC's address changes: the password is the old BMC's,
// and is not sent to another address without the operator saying so.
func keepPassword(old, sys *System) error {
	if old == nil || old.BMC == nil || sys.BMC == nil || sys.BMC.Password != "" || old.BMC.Password == "" {
		return nil
	}
	if old.BMC.Address != sys.BMC.Address {
		return invalidf("system %s: the bmc address changes from %s to %s: give the new BMC's password too (--bmc-password-env); the old one is not sent to another address", sys.Name, old.BMC.Address, sys.BMC.Address)
	}
	sys.BMC.Password = old.BMC.Password
	sys.BMC.PasswordSet = true
	return nil
}

// checkSystem applies the conflict rules; the system being edited (prev)
// never conflicts with itself.
func (s *Snapshot) checkSystem(prev string, sys *System) error {
	other := func(o *System) bool { return o != nil && o.Name != prev }
	if o := s.systems.At(sys.Name); other(o) {
		return conflictf("system %s already exists", sys.Name)
	}
	if o := s.byHostname.At(sys.Hostname); other(o) {
		return conflictf("hostname %s is already used by system %s", sys.Hostname, o.Name)
	}
	if err := s.checkSystemNames(prev, sys); err != nil {
		return err
	}
	for _, m := range sys.MACs {
		hw, _ := ParseMAC(m)
		k, _ := keyOf(hw)
		if o := s.byMAC.At(k); other(o) {
			return conflictf("mac %s is already used by system %s", m, o.Name)
		}
	}
	if _, ok := s.profiles[sys.Profile]; !ok {
		return invalidf("system %s: profile %q does not exist", sys.Name, sys.Profile)
	}
	ip := netip.MustParseAddr(sys.IP)
	if err := s.checkAddressFree("ip", ip, other); err != nil {
		return err
	}
	if err := s.checkStaticIP(ip); err != nil {
		return err
	}
	if err := s.checkIfaceAddresses(sys, other); err != nil {
		return err
	}
	if sys.BMC == nil {
		return nil
	}
	bmc := netip.MustParseAddr(sys.BMC.Address)
	if bmc == ip {
		return conflictf("bmc address %s is the system's own ip", bmc)
	}
	if e := s.subnetEntryFor(bmc); e != nil {
		if why := e.reservedRole(bmc); why != "" {
			return conflictf("bmc address %s is %s of subnet %s", bmc, why, e.Name)
		}
	}
	return s.checkAddressFree("bmc address", bmc, other)
}

func (s *Snapshot) checkStaticIP(ip netip.Addr) error {
	e := s.subnetEntryFor(ip)
	if e == nil {
		return invalidf("ip %s is not inside any subnet", ip)
	}
	if why := e.reservedRole(ip); why != "" {
		return conflictf("ip %s is %s of subnet %s", ip, why, e.Name)
	}
	return nil
}

func (s *Snapshot) checkAddressFree(what string, ip netip.Addr, other func(*System) bool) error {
	if o := s.byIP.At(ip); other(o) {
		return conflictf("%s %s is already used by system %s", what, ip, o.Name)
	}
	if o := s.byBMC.At(ip); other(o) {
		return conflictf("%s %s is already the BMC address of system %s", what, ip, o.Name)
	}
	if o := s.byExtra.At(ip); other(o) {
		return conflictf("%s %s is already used by system %s (interface %s)", what, ip, o.Name, ifaceOwning(o, ip))
	}
	return nil
}

func (s *Snapshot) deleteSystem(name string) (*System, error) {
	sys, ok := s.systems.Get(name)
	if !ok {
		return nil, notFound(ObjSystem, name)
	}
	s.unindex(sys)
	return sys, nil
}

func (s *Snapshot) index(sys *System) {
	s.indexNames(sys)
	s.indexAddrs(sys)
}

// indexNames puts sys in the indexes by name, identity and hostname.
func (s *Snapshot) indexNames(sys *System) {
	s.systems.Set(sys.Name, sys)
	s.byID.Set(sys.ID, sys)
	s.byHostname.Set(sys.Hostname, sys)
}

// indexAddrs puts sys in the indexes by address and token; they are
// apart from indexNames' (other cow.Maps), so both may run at once.
func (s *Snapshot) indexAddrs(sys *System) {
	for _, m := range sys.MACs {
		hw, _ := ParseMAC(m)
		k, _ := keyOf(hw)
		s.byMAC.Set(k, sys)
	}
	s.byIP.Set(netip.MustParseAddr(sys.IP), sys)
	if sys.BMC != nil {
		s.byBMC.Set(netip.MustParseAddr(sys.BMC.Address), sys)
	}
	for _, ip := range extraAddrs(sys) {
		s.byExtra.Set(ip, sys)
	}
	if sys.BuildToken != "" {
		s.byToken.Set(sys.BuildToken, sys)
	}
	if sys.InspectToken != "" {
		s.byInspect.Set(sys.InspectToken, sys)
	}
}

func (s *Snapshot) unindex(sys *System) {
	s.systems.Delete(sys.Name)
	s.byID.Delete(sys.ID)
	s.byHostname.Delete(sys.Hostname)
	for _, m := range sys.MACs {
		hw, _ := ParseMAC(m)
		k, _ := keyOf(hw)
		s.byMAC.Delete(k)
	}
	s.byIP.Delete(netip.MustParseAddr(sys.IP))
	if sys.BMC != nil {
		s.byBMC.Delete(netip.MustParseAddr(sys.BMC.Address))
	}
	for _, ip := range extraAddrs(sys) {
		s.byExtra.Delete(ip)
	}
	s.byToken.Delete(sys.BuildToken)
	s.byInspect.Delete(sys.InspectToken)
}
