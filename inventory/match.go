package inventory

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// MaxMatchLen bounds the text of a match expression, in bytes.
const MaxMatchLen = 4 << 10

// Match is a compiled match expression (github.com/expr-lang/expr) over
// an inventory's Env: true when a rule applies to a machine.
type Match struct {
	src  string
	prog *vm.Program
}

// The shape of Env, as match expressions name it (expr tags). Compiling
// against these types is what refuses a misspelt field (lldp.swich) at
// write time.
type (
	matchEnv struct {
		LLDP      envLLDP   `expr:"lldp"`
		DMI       envDMI    `expr:"dmi"`
		BootMode  string    `expr:"boot_mode"`
		CPU       envCPU    `expr:"cpu"`
		MemoryMiB int64     `expr:"memory_mib"`
		Disks     []envDisk `expr:"disks"`
		NICs      []envNIC  `expr:"nics"`
		BMC       envBMC    `expr:"bmc"`
		MAC       string    `expr:"mac"`
	}
	envLLDP struct {
		Switch          string `expr:"switch"`
		Port            string `expr:"port"`
		PortDescription string `expr:"port_description"`
		Chassis         string `expr:"chassis"`
		VLAN            int    `expr:"vlan"`
	}
	envDMI struct {
		Vendor      string `expr:"vendor"`
		Product     string `expr:"product"`
		Serial      string `expr:"serial"`
		UUID        string `expr:"uuid"`
		BIOSVersion string `expr:"bios_version"`
	}
	envCPU struct {
		Model   string `expr:"model"`
		Sockets int    `expr:"sockets"`
		Cores   int    `expr:"cores"`
		Threads int    `expr:"threads"`
	}
	envDisk struct {
		Name       string `expr:"name"`
		Path       string `expr:"path"`
		Model      string `expr:"model"`
		Serial     string `expr:"serial"`
		WWN        string `expr:"wwn"`
		SizeBytes  int64  `expr:"size_bytes"`
		Rotational bool   `expr:"rotational"`
		Removable  bool   `expr:"removable"`
	}
	envNIC struct {
		Name     string `expr:"name"`
		MAC      string `expr:"mac"`
		Driver   string `expr:"driver"`
		SpeedMbs int    `expr:"speed_mbs"`
		Link     bool   `expr:"link"`
	}
	envBMC struct {
		IP  string `expr:"ip"`
		MAC string `expr:"mac"`
	}
)

// newEnv is inv as a match expression sees it; lldp is the boot NIC's
// neighbour (Neighbour), empty strings when no NIC heard one.
func newEnv(inv Inventory) matchEnv {
	e := matchEnv{
		DMI:       envDMI{inv.DMI.Vendor, inv.DMI.Product, inv.DMI.Serial, inv.DMI.UUID, inv.DMI.BIOSVersion},
		BootMode:  inv.BootMode,
		CPU:       envCPU{inv.CPU.Model, inv.CPU.Sockets, inv.CPU.Cores, inv.CPU.Threads},
		MemoryMiB: inv.MemoryMiB,
		MAC:       inv.MAC,
		Disks:     []envDisk{},
		NICs:      []envNIC{},
	}
	if l := inv.Neighbour(); l != nil {
		e.LLDP = envLLDP{l.SwitchName, l.PortID, l.PortDescription, l.ChassisID, l.VLAN}
	}
	for _, d := range inv.Disks {
		e.Disks = append(e.Disks, envDisk{d.Name, d.Path, d.Model, d.Serial, d.WWN, d.SizeBytes, d.Rotational, d.Removable})
	}
	for _, n := range inv.NICs {
		e.NICs = append(e.NICs, envNIC{n.Name, n.MAC, n.Driver, n.SpeedMbs, n.Link})
	}
	if inv.BMC != nil {
		e.BMC = envBMC{inv.BMC.IP, inv.BMC.MAC}
	}
	return e
}

// Env is what a match expression sees of inv, as plain maps and lists
// (to show an operator what a rule can name): lldp.switch, lldp.port,
// lldp.port_description, lldp.chassis, lldp.vlan; dmi.vendor, .product,
// .serial, .uuid, .bios_version; boot_mode; cpu.model, .sockets, .cores,
// .threads; memory_mib; disks and nics (lists); bmc.ip, bmc.mac; mac.
func Env(inv Inventory) map[string]any {
	return toMap(reflect.ValueOf(newEnv(inv))).(map[string]any)
}

func toMap(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			m[v.Type().Field(i).Tag.Get("expr")] = toMap(v.Field(i))
		}
		return m
	case reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = toMap(v.Index(i))
		}
		return l
	}
	return v.Interface()
}

// CompileMatch compiles a match expression, refusing one over
// MaxMatchLen, one that names a field Env does not have, and one that is
// not a boolean. `a =~ "re"` is read as expr's `a matches "re"`.
func CompileMatch(src string) (*Match, error) {
	if len(src) > MaxMatchLen {
		return nil, fmt.Errorf("match: %d bytes, the limit is %d", len(src), MaxMatchLen)
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("match: empty")
	}
	prog, err := expr.Compile(rewriteMatches(src), expr.Env(matchEnv{}), expr.AsBool(), expr.MaxNodes(1000))
	if err != nil {
		return nil, fmt.Errorf("match: %s", firstLine(err.Error()))
	}
	return &Match{src: src, prog: prog}, nil
}

// String is the expression as it was written.
func (m *Match) String() string { return m.src }

// Eval reports whether inv matches.
func (m *Match) Eval(inv Inventory) (bool, error) {
	out, err := expr.Run(m.prog, newEnv(inv))
	if err != nil {
		return false, fmt.Errorf("match: %s", firstLine(err.Error()))
	}
	b, _ := out.(bool)
	return b, nil
}

// rewriteMatches turns each =~ outside string literals into " matches ".
// expr's lexer refuses =~, so this scanner knows its quoting: "..." and
// '...' with backslash escapes, `...` raw.
func rewriteMatches(src string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && quote != '`' && i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
			b.WriteByte(c)
		case c == '=' && i+1 < len(src) && src[i+1] == '~':
			b.WriteString(" matches ")
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// firstLine is expr's error without the source excerpt it appends.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
