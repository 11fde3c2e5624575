package kickstart

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBootArgs(t *testing.T) {
	const url = "http://10.0.0.1/ks/TOKEN"
	for _, c := range []struct {
		kind string
		want []string
	}{
		{KindKickstart, []string{"inst.ks=" + url, "provision.ks=" + url}},
		{KindPreseed, []string{"auto=true", "priority=critical", "url=" + url, "provision.ks=" + url}},
		{KindAutoinstall, []string{"autoinstall", "ds=nocloud-net;s=" + url + "/", "provision.ks=" + url}},
		{KindScript, []string{"provision.ks=" + url}},
		{KindDeploy, []string{"provision.deploy=" + url}},
		{KindSnippet, nil},
		{"", nil},
		{"Kickstart", nil},
	} {
		t.Run(c.kind, func(t *testing.T) {
			if diff := cmp.Diff(c.want, BootArgs(c.kind, url)); diff != "" {
				t.Errorf("BootArgs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	if len(Kinds) != 6 {
		t.Errorf("Kinds = %v, want six", Kinds)
	}
	for _, k := range Kinds {
		if !knownKind(k) {
			t.Errorf("knownKind(%q) = false", k)
		}
	}
	if knownKind("ks") {
		t.Error("knownKind(ks) = true")
	}
}
