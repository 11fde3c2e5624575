package api

import (
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

// The consoles of discovered machines (issue 33): a machine its agent
// reported has no system yet, so its console is named after its boot MAC
// (MachineConsoleName). The appliance captures it from the enrolment of
// its BMC for as long as its agent stays up. Read-only: a machine's
// console has no attach and no capture route.
//
//	GET /api/v1/machines/KEY/console[?since=D&lines=N]  its status and recorded lines (read right)
//	GET /api/v1/machines/KEY/console/stream[?since=D]    its lines as they come (Server-Sent Events; read right)
//
// KEY is a boot MAC or a DMI serial, as GET /api/v1/machines/KEY. The
// answers are the systems' routes' (ConsoleView, ConsoleLine events);
// status.system is the console's name.

// machineConsolePrefix begins a machine's console name. Its '_' is what
// keeps it apart from the systems' names: a system name is a DNS label
// (registry.CheckSystemName: lowercase letters, digits and '-'), which
// cannot hold '_', while a console name may (console.OpenRing).
const machineConsolePrefix = "mac_"

// MachineConsoleName is the console name of the machine of a MAC address:
// "mac_" and its 6 bytes in lowercase hex ("mac_525400d90b01" for
// 52:54:00:D9:0B:01), a name no system can take. It is "" for what is
// not a 6-byte MAC address.
func MachineConsoleName(mac string) string {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return ""
	}
	return machineConsolePrefix + hex.EncodeToString(hw)
}

// ConsoleMachine is the MAC address (aa:bb:cc:dd:ee:ff) of a machine's
// console name; ok is false for any other name (a system's).
func ConsoleMachine(name string) (mac string, ok bool) {
	h, ok := strings.CutPrefix(name, machineConsolePrefix)
	if !ok || len(h) != 12 || h != strings.ToLower(h) {
		return "", false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", false
	}
	return net.HardwareAddr(b).String(), true
}

func (s *server) machineConsoleRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /api/v1/machines/{key}/console", s.machineConsoleLines)
	s.route(mux, "GET /api/v1/machines/{key}/console/stream", s.streamMachineConsole)
}

// machineConsole is the console name of the machine in the path, once
// the server has consoles and the machine exists; it answered the error
// otherwise (404 naming the key).
func (s *server) machineConsole(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.Console == nil {
		writeError(w, http.StatusNotImplemented, "this server captures no consoles")
		return "", false
	}
	m, ok := s.machine(w, r)
	if !ok {
		return "", false
	}
	return MachineConsoleName(m.MAC), true
}

// machineConsoleLines answers a machine's console status and last lines.
func (s *server) machineConsoleLines(w http.ResponseWriter, r *http.Request) {
	if name, ok := s.machineConsole(w, r); ok {
		s.writeConsoleLines(w, r, name)
	}
}

// streamMachineConsole sends a machine's console lines as they come.
func (s *server) streamMachineConsole(w http.ResponseWriter, r *http.Request) {
	if name, ok := s.machineConsole(w, r); ok {
		s.writeConsoleStream(w, r, name)
	}
}
