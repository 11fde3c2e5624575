package cobbler

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/kickstart"
)

func TestCheetahFeatures(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"plain kickstart", "#version=RHEL8\n# a comment\ninstall\nrootpw --lock\n#selinux --disabled\n#password is locked\n%post\necho $1 \\$HOME \\$(date)\n%end\n", nil},
		{"plain preseed", "d-i passwd/root-login boolean false\n", nil},
		{"snippet", "$SNIPPET('network_config')\n", []string{"$SNIPPET()"}},
		{"variables", "url --url=$tree\nnetwork --hostname=$hostname.strip\nurl $tree\n", []string{"$variables ($tree, $hostname)"}},
		{"many variables", "$a $b $c $d", []string{"$variables ($a, $b, $c, ...)"}},
		{"directives", "#if $x\n#set $y = 1\n#else\n#end if\n#include 'x'\n", []string{"#if", "#set", "#else", "#end", "#include", "$variables ($x, $y)"}},
		{"enclosures", "${a} $(hostname) $[0] $getVar('x', '')", []string{"$getVar()", "${...}", "$(...)", "$[...]"}},
		{"comments", "#* a Cheetah comment *#\n", []string{"#* comments *#"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if d := cmp.Diff(c.want, CheetahFeatures(c.text)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// The fixture's templates: two plain, one Cheetah.
func TestFixtureTemplates(t *testing.T) {
	for file, plain := range map[string]bool{"centos7-base.ks": true, "debian12-lb.seed": true, "sample.ks": false} {
		b, err := os.ReadFile("testdata/cobbler/templates/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(CheetahFeatures(string(b))) == 0; got != plain {
			t.Errorf("%s: plain %v, want %v (%v)", file, got, plain, CheetahFeatures(string(b)))
		}
	}
}

func TestPlainTemplate(t *testing.T) {
	in := "echo \\$(date) \\#not a directive {{.System.Name}}\n"
	want := "echo $(date) #not a directive {{\"{{\"}}.System.Name}}\n"
	got := plainTemplate(in)
	if got != want {
		t.Fatalf("plainTemplate: %q, want %q", got, want)
	}
	tmpl := kickstart.Template{Name: "t", Kind: kickstart.KindKickstart, Text: got}
	if err := kickstart.Check(tmpl); err != nil {
		t.Fatal(err)
	}
}

func TestTemplateKind(t *testing.T) {
	for _, c := range []struct{ breed, text, want string }{
		{"redhat", "install\n", kickstart.KindKickstart},
		{"", "install\n", kickstart.KindKickstart},
		{"debian", "d-i x\n", kickstart.KindPreseed},
		{"ubuntu", "d-i x\n", kickstart.KindPreseed},
		{"ubuntu", "#cloud-config\nautoinstall:\n", kickstart.KindAutoinstall},
		{"suse", "<profile/>", kickstart.KindScript},
	} {
		if got := templateKind(c.breed, c.text); got != c.want {
			t.Errorf("templateKind(%q, %q) = %q, want %q", c.breed, c.text, got, c.want)
		}
	}
}
