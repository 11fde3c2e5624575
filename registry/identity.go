package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// newSystemID is a fresh identity: 64 random bits.
func newSystemID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// legacySystemID is the identity of a system stored before systems had
// one: derived from its name, so that it is the same at every start until
// the system is written again with it.
func legacySystemID(name string) string {
	h := sha256.Sum256([]byte("system " + name))
	return hex.EncodeToString(h[:8])
}

// LegacySystemID is legacySystemID for the stores' migration of events
// recorded by system name.
func LegacySystemID(name string) string { return legacySystemID(name) }

// validSystemID accepts what newSystemID makes.
func validSystemID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// assignID gives sys its identity: the old system's on an edit or rename;
// an imported one's own when valid and free; else a new one.
func (s *Snapshot) assignID(old, sys *System, imported bool) {
	switch {
	case old != nil:
		sys.ID = old.ID
	case imported && validSystemID(sys.ID) && s.byID.At(sys.ID) == nil:
	default:
		sys.ID = newSystemID()
	}
}

// SystemID returns the identity of the system named name.
func (s *Snapshot) SystemID(name string) (string, bool) {
	if sys, ok := s.systems.Get(name); ok {
		return sys.ID, true
	}
	return "", false
}

// SystemByID returns the system with that identity.
func (s *Snapshot) SystemByID(id string) (*System, bool) {
	sys, ok := s.byID.Get(id)
	return sys, ok
}
