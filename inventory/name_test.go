package inventory

import (
	"strings"
	"testing"
)

func TestRenderName(t *testing.T) {
	inv := sample()
	for _, tc := range []struct{ tmpl, want, err string }{
		{tmpl: `a12-{{ .LLDP.PortNumber }}`, want: "a12-7"},
		{tmpl: `{{ .LLDP.Switch }}-{{ .LLDP.PortNumber }}`, want: "tor-a12-7"},
		{tmpl: `{{ lower .DMI.Serial }}`, want: "s1"},
		{tmpl: `n{{ .MACSuffix }}`, want: "n123456"},
		{tmpl: `{{ replace .DMI.Product " " "-" | lower }}`, want: "poweredge-r650"},
		{tmpl: `{{ printf "r%03s" .LLDP.PortNumber }}`, want: "r007"},
		{tmpl: `{{ range .Disks }}{{ .Name }}{{ end }}`, want: "vdavdb"},
		{tmpl: strings.Repeat("x", 65), err: "more than 64"},
		{tmpl: `{{ range .Disks }}{{ printf "%040d" 1 }}{{ end }}`, err: "more than 64"},
		{tmpl: `{{ define "l" }}{{ template "l" }}{{ end }}{{ template "l" }}`, err: "depth"},
		{tmpl: `{{ .LLDP.Prot }}`, err: "Prot"},
		{tmpl: `{{ exec "x" }}`, err: "exec"},
		{tmpl: `{{ .LLDP.PortNumber`, err: "unclosed"},
	} {
		t.Run(tc.tmpl[:min(len(tc.tmpl), 40)], func(t *testing.T) {
			got, err := RenderName(tc.tmpl, inv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("RenderName = %q, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("RenderName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestPortNumber(t *testing.T) {
	for port, want := range map[string]string{"Ethernet1/7": "7", "swp12": "12", "ge-0/0/23.0": "0", "mgmt": "", "": ""} {
		inv := Inventory{MAC: "52:54:00:00:00:01", NICs: []NIC{{MAC: "52:54:00:00:00:01", LLDP: &LLDP{PortID: port}}}}
		if got := NewNameData(inv).LLDP.PortNumber; got != want {
			t.Errorf("PortNumber of %q = %q, want %q", port, got, want)
		}
	}
}

func TestCheckName(t *testing.T) {
	if err := CheckName(`a12-{{ .LLDP.PortNumber }}`); err != nil {
		t.Error(err)
	}
	if err := CheckName(`{{ .LLDP.Bogus }}`); err == nil {
		t.Error("CheckName accepted a field NameData does not have")
	}
}
