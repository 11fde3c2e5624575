package kickstart

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/testenv"
)

func TestAutoinstallCloudInit(t *testing.T) {
	bin := testenv.NeedCommand(t, "cloud-init")
	for _, r := range renderingsOf(t, KindAutoinstall) {
		t.Run(r.name, func(t *testing.T) {
			if err := runChecker(t, r.text, bin, "schema", "--config-file"); err != nil {
				t.Error(err)
			}
		})
	}
	doc := renderingsOf(t, KindAutoinstall)[0].text
	for _, broken := range []struct {
		name string
		text []byte
	}{
		{"no #cloud-config", bytes.TrimPrefix(doc, []byte("#cloud-config\n"))},
		{"bad YAML", append(bytes.Clone(doc), "  late-commands: [\n"...)},
		{"runcmd not a list", append(bytes.Clone(doc), "runcmd: 3\n"...)},
	} {
		t.Run("rejects "+broken.name, func(t *testing.T) {
			if runChecker(t, broken.text, bin, "schema", "--config-file") == nil {
				t.Error("cloud-init schema accepted it")
			}
		})
	}
}

// autoinstall is the part of the user-data that the built-in writes;
// decoding with KnownFields fails on any other key.
type autoinstall struct {
	Autoinstall struct {
		Version  int               `yaml:"version"`
		Locale   string            `yaml:"locale"`
		Keyboard map[string]string `yaml:"keyboard"`
		Timezone string            `yaml:"timezone"`
		Apt      struct {
			Primary []struct {
				Arches []string `yaml:"arches"`
				URI    string   `yaml:"uri"`
			} `yaml:"primary"`
		} `yaml:"apt"`
		Identity map[string]string `yaml:"identity"`
		SSH      struct {
			InstallServer  bool     `yaml:"install-server"`
			AuthorizedKeys []string `yaml:"authorized-keys"`
			AllowPW        *bool    `yaml:"allow-pw"`
		} `yaml:"ssh"`
		Network struct {
			Version   int                 `yaml:"version"`
			Ethernets map[string]ethernet `yaml:"ethernets"`
		} `yaml:"network"`
		Storage struct {
			Layout struct {
				Name  string            `yaml:"name"`
				Match map[string]string `yaml:"match"`
			} `yaml:"layout"`
		} `yaml:"storage"`
		LateCommands  [][]string `yaml:"late-commands"`
		ErrorCommands [][]string `yaml:"error-commands"`
	} `yaml:"autoinstall"`
}

type ethernet struct {
	Match     map[string]string   `yaml:"match"`
	Addresses []string            `yaml:"addresses"`
	Routes    []map[string]string `yaml:"routes"`
	DNS       map[string][]string `yaml:"nameservers"`
}

func decodeAutoinstall(t *testing.T, text []byte) autoinstall {
	t.Helper()
	var a autoinstall
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return a
}

func TestAutoinstallValues(t *testing.T) {
	for _, r := range renderingsOf(t, KindAutoinstall) {
		t.Run(r.name, func(t *testing.T) {
			a := decodeAutoinstall(t, r.text).Autoinstall
			if a.Version != 1 || a.Network.Version != 2 || a.Storage.Layout.Name != "lvm" {
				t.Errorf("version %d, network version %d, layout %q", a.Version, a.Network.Version, a.Storage.Layout.Name)
			}
			want := ethernet{
				Match:     map[string]string{"macaddress": "52:54:00:aa:bb:01"},
				Addresses: []string{"10.0.0.11/24"},
				Routes:    []map[string]string{{"to": "default", "via": "10.0.0.1"}},
				DNS:       map[string][]string{"addresses": {"10.0.0.1"}, "search": {"internal"}},
			}
			if diff := cmp.Diff(map[string]ethernet{"provision": want}, a.Network.Ethernets); diff != "" {
				t.Errorf("ethernets (-want +got):\n%s", diff)
			}
			late := []string{"curl", "-fsS", "--retry", "5", "--retry-connrefused", "-X", "POST", "http://10.0.0.1/ks/TOKEN/done"}
			if diff := cmp.Diff([][]string{late}, a.LateCommands); diff != "" {
				t.Errorf("late-commands (-want +got):\n%s", diff)
			}
			if n := len(a.ErrorCommands); n != 1 || a.ErrorCommands[0][len(a.ErrorCommands[0])-1] != "http://10.0.0.1/ks/TOKEN/failed" {
				t.Errorf("error-commands %q do not post to the failed URL", a.ErrorCommands)
			}
			if a.Identity["hostname"] != "web001" || a.Identity["password"] == "" {
				t.Errorf("identity %v", a.Identity)
			}
		})
	}
}

func TestAutoinstallSettings(t *testing.T) {
	s := fullSettings()
	a := decodeAutoinstall(t, renderingsOf(t, KindAutoinstall)[1].text).Autoinstall
	for _, c := range []struct{ what, got, want string }{
		{"locale", a.Locale, s["install.locale"]},
		{"timezone", a.Timezone, s["install.timezone"]},
		{"keyboard", a.Keyboard["layout"], s["install.keyboard"]},
		{"username", a.Identity["username"], s["user.name"]},
		{"password", a.Identity["password"], s["user.password-hash"]},
		{"key", strings.Join(a.SSH.AuthorizedKeys, "\n"), s["ssh.authorized-key"]},
		{"disk", a.Storage.Layout.Match["path"], s["install.disk"]},
		{"mirror", a.Apt.Primary[0].URI, s["install.mirror"]},
	} {
		if c.got != c.want {
			t.Errorf("%s %q, want %q", c.what, c.got, c.want)
		}
	}
	if a.SSH.AllowPW == nil || *a.SSH.AllowPW {
		t.Error("allow-pw is not false with a key")
	}
}

func TestMetaData(t *testing.T) {
	got := string(MetaData(SampleData(), "42"))
	want := "instance-id: \"web001-42\"\nlocal-hostname: \"web001.internal\"\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MetaData (-want +got):\n%s", diff)
	}
	var m map[string]string
	if err := yaml.Unmarshal([]byte(got), &m); err != nil || m["instance-id"] != "web001-42" {
		t.Errorf("yaml: %v %v", m, err)
	}
}

// With an Ubuntu archive in the appliance's cache, the installed system's
// apt takes it.
func TestAutoinstallMirrorFromCache(t *testing.T) {
	set, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData()
	d.URLs.Mirrors = MirrorURLs(d.URLs.Server, []string{"ubuntu"})
	out, err := set.Render("ubuntu-autoinstall", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "uri: \"http://10.0.0.1/ubuntu\"") && !strings.Contains(string(out), "uri: http://10.0.0.1/ubuntu\n") {
		t.Errorf("no apt primary of the cache:\n%s", out)
	}
}
