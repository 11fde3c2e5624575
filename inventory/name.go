package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// Limits of a name template.
const (
	MaxNameTemplate = 512 // bytes of template text
	MaxNameLen      = 64  // bytes a template may write
)

// NameData is what a name template sees: the Inventory's fields, and
// the neighbour and identity in the short forms names are made of.
type NameData struct {
	Inventory
	LLDP NameLLDP
	// MACSuffix is the last 6 hex digits of the boot MAC (12:34:56 of
	// 52:54:00:12:34:56 is "123456").
	MACSuffix string
}

// NameLLDP is the machine's switch port (Inventory.Neighbour).
type NameLLDP struct {
	Switch          string
	Chassis         string
	Port            string
	PortDescription string
	// PortNumber is the last run of digits of the port id: 7 of
	// Ethernet1/7; "" when it has none.
	PortNumber string
	VLAN       int
}

// nameFuncs are the only functions a name template may call.
var nameFuncs = template.FuncMap{
	"lower":      strings.ToLower,
	"upper":      strings.ToUpper,
	"replace":    func(s, old, new string) string { return strings.ReplaceAll(s, old, new) },
	"trimPrefix": strings.TrimPrefix,
	"trimSuffix": strings.TrimSuffix,
	"printf":     fmt.Sprintf,
}

// parseName parses a name template: its own functions only (text/
// template's builtins stay, none of which loops without bound but range
// over the inventory's bounded lists).
func parseName(tmpl string) (*template.Template, error) {
	if len(tmpl) > MaxNameTemplate {
		return nil, fmt.Errorf("name template: %d bytes, the limit is %d", len(tmpl), MaxNameTemplate)
	}
	if strings.TrimSpace(tmpl) == "" {
		return nil, errors.New("name template: empty")
	}
	t, err := template.New("name").Funcs(nameFuncs).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("name %w", err)
	}
	return t, nil
}

// CheckName checks that a name template parses and renders for a sample
// inventory (so that a misspelt field is refused when the rule is
// written, not when a machine comes).
func CheckName(tmpl string) error {
	t, err := parseName(tmpl)
	if err != nil {
		return err
	}
	_, err = execName(t, Inventory{})
	return err
}

// RenderName renders a name template for inv: at most MaxNameLen bytes
// (a template that writes more fails), trimmed of spaces.
func RenderName(tmpl string, inv Inventory) (string, error) {
	t, err := parseName(tmpl)
	if err != nil {
		return "", err
	}
	return execName(t, inv)
}

func execName(t *template.Template, inv Inventory) (string, error) {
	w := &boundedBuffer{max: MaxNameLen}
	if err := t.Execute(w, NewNameData(inv)); err != nil {
		if errors.Is(err, errNameTooLong) {
			return "", errNameTooLong
		}
		return "", fmt.Errorf("name %w", err)
	}
	return strings.TrimSpace(w.String()), nil
}

// NewNameData is what a name template sees of inv.
func NewNameData(inv Inventory) NameData {
	d := NameData{Inventory: inv}
	if l := inv.Neighbour(); l != nil {
		d.LLDP = NameLLDP{Switch: l.SwitchName, Chassis: l.ChassisID, Port: l.PortID,
			PortDescription: l.PortDescription, PortNumber: lastDigits(l.PortID), VLAN: l.VLAN}
	}
	hex := strings.ReplaceAll(inv.MAC, ":", "")
	if len(hex) >= 6 {
		d.MACSuffix = hex[len(hex)-6:]
	}
	return d
}

var digitsRE = regexp.MustCompile(`[0-9]+`)

func lastDigits(s string) string {
	all := digitsRE.FindAllString(s, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

var errNameTooLong = fmt.Errorf("name template: writes more than %d bytes", MaxNameLen)

// boundedBuffer fails a write past max bytes, which stops the template.
type boundedBuffer struct {
	bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errNameTooLong
	}
	return b.Buffer.Write(p)
}
