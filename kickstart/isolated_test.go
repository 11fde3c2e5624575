package kickstart

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// isolated renders the built-in name for a host without a gateway, name
// servers or zone.
func isolated(t *testing.T, name string) []byte {
	t.Helper()
	s, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData()
	d.System.Gateway, d.System.DNS, d.System.Domain = "", nil, ""
	text, err := s.Render(name, d)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestIsolatedPreseed(t *testing.T) {
	text := isolated(t, "debian12-preseed")
	if err := runChecker(t, text, testenv.NeedCommand(t, "debconf-set-selections"), "--checkonly"); err != nil {
		t.Error(err)
	}
	a := debconfAnswers(t, text)
	if a["netcfg/get_gateway"] != "" || a["netcfg/no_default_route"] != "true" {
		t.Errorf("get_gateway %q, no_default_route %q", a["netcfg/get_gateway"], a["netcfg/no_default_route"])
	}
}

func TestIsolatedAutoinstall(t *testing.T) {
	text := isolated(t, "ubuntu-autoinstall")
	if err := runChecker(t, text, testenv.NeedCommand(t, "cloud-init"), "schema", "--config-file"); err != nil {
		t.Error(err)
	}
	eth := decodeAutoinstall(t, text).Autoinstall.Network.Ethernets["provision"]
	if eth.Routes != nil || eth.DNS != nil || !slices.Equal(eth.Addresses, []string{"10.0.0.11/24"}) {
		t.Errorf("ethernet %+v, want only an address", eth)
	}
}

func TestIsolatedKickstart(t *testing.T) {
	ks, err := parseKickstart(t, isolated(t, "rhel9-kickstart"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range ks.commands["network"] {
		if strings.HasPrefix(arg, "--gateway") || strings.HasPrefix(arg, "--nameserver") {
			t.Errorf("network has %s", arg)
		}
	}
}

func TestPreseedBadMirror(t *testing.T) {
	s, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData()
	d.Settings = map[string]string{"install.mirror": "deb.debian.org/debian"}
	_, err = s.Render("debian12-preseed", d)
	var e *Error
	if !errors.As(err, &e) || e.Template != "debian12-preseed" || e.Line == 0 || e.Msg != "install.mirror must be an http:// or https:// URL" {
		t.Errorf("Render: %v, want the required error with its line", err)
	}
}
