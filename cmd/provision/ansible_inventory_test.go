package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// ansibleScript is contrib's dynamic inventory script.
func ansibleScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../contrib/ansible/provision_inventory.py")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 31, item 2: `provision inventory`, contrib's script and the CLI
// as a script, read by Debian's ansible-inventory (--list and --graph)
// over the API's https listener, agree with the registry; no secret
// shows; the script says why it fails.
func TestAnsibleInventory(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "ansible-inventory")
	s := startServer(t, t.TempDir(), "--api", "127.0.0.1:0")
	seed(t, s)
	s.ok("subnet", "edit", "mgmt", "--site", "dc-2")
	s.ok("setting", "set", "ntp", "10.0.0.2")
	s.ok("setting", "set", "--secret", "root.hash", "s3cret-global")
	s.ok("profile", "edit", "centos-db", "--set-secret", "db.password=s3cret-db", "--set", "role=db")
	r := s.run([]string{"BMC_PW=s3cret-bmc"}, "system", "add", "web001", "--mac", "aa:bb:cc:00:00:01", "--mac", "aa:bb:cc:00:01:01",
		"--ip", "10.0.0.11", "--profile", "centos-web", "--bmc-address", "10.0.1.101", "--bmc-user", "admin", "--bmc-password-env", "BMC_PW")
	if r.Code != 0 {
		t.Fatal(r.Err)
	}
	s.ok("system", "add", "web002", "--mac", "aa:bb:cc:00:00:02", "--ip", "10.0.1.12", "--profile", "centos-web", "--set", "role=lvs", "--set", "rack=a12")
	s.ok("system", "add", "db001", "--mac", "aa:bb:cc:00:00:03", "--ip", "10.0.0.21", "--profile", "centos-db", "--set", "rack=A-12", "--set-secret", "role=s3cret-role")

	want := wantAnsible(t, s, "role", "rack")
	for group, members := range map[string][]string{"profile_centos_web": {"web001", "web002"}, "site_dc_2": {"web002"}, "state_pending": {"db001"},
		"role_web": {"web001"}, "role_lvs": {"web002"}, "rack_a12": {"web002"}, "rack_A_12": {"db001"}} {
		if !slices.Equal(want.groups[group], members) {
			t.Errorf("the registry's group %s: %v, want %v (the test's own reading is wrong)", group, want.groups[group], members)
		}
	}
	outputs := []string{s.ok("inventory", "--list", "--group-by", "role", "--group-by", "rack")}
	want.checkList(t, "provision inventory --list", outputs[0])
	host := s.ok("inventory", "--host", "web001")
	if d := cmpJSON(t, want.hosts["web001"], host); d != "" {
		t.Errorf("provision inventory --host web001 (-registry +inventory):\n%s", d)
	}

	script := ansibleScript(t)
	env := []string{"PROVISION_SERVER=" + s.API, "PROVISION_CA=" + s.CA, "PROVISION_TOKEN=",
		"PROVISION_TOKEN_FILE=" + filepath.Join(s.Data, "token-read-only"), "PROVISION_GROUP_BY=role, rack"}
	list := ansibleInventory(t, env, "-i", script, "--list")
	want.checkList(t, "ansible-inventory -i provision_inventory.py --list", list)
	graph := ansibleInventory(t, env, "-i", script, "--graph")
	want.checkGraph(t, graph)
	pem := append(slices.Clone(env), "PROVISION_CA="+filepath.Join(s.Data, "tls", "api.crt"))
	want.checkList(t, "the script trusting the certificate file", ansibleInventory(t, pem, "-i", script, "--list"))

	wrapper := filepath.Join(t.TempDir(), "provision-inventory")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+cli+" inventory --group-by role,rack \"$@\"\n"), 0o755)
	cliEnv := []string{"PROVISION_SERVER=" + s.API, "PROVISION_CA=" + s.CA, "PROVISION_TOKEN=" + s.Token}
	cliList := ansibleInventory(t, cliEnv, "-i", wrapper, "--list")
	want.checkList(t, "ansible-inventory -i 'provision inventory'", cliList)
	t.Logf("ansible-inventory --graph:\n%s", graph)

	for _, out := range append(outputs, host, list, graph, cliList) {
		if strings.Contains(out, "s3cret") {
			t.Errorf("a secret in the inventory:\n%s", out)
		}
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"PROVISION_CA=sha256:" + strings.Repeat("0", 64)}, "not the pinned sha256:" + strings.Repeat("0", 64)},
		{[]string{"PROVISION_TOKEN=wrong"}, "401 wrong API token"},
		{[]string{"PROVISION_CA=/nonexistent"}, "PROVISION_CA /nonexistent: [Errno 2] No such file"},
		{[]string{"PROVISION_TOKEN_FILE=/nonexistent"}, "PROVISION_TOKEN_FILE /nonexistent: No such file"},
		{[]string{"PROVISION_GROUP_BY=profile"}, "400 group_by profile: group profile is the inventory's own grouping"},
		{[]string{"PROVISION_SERVER=ftp://x"}, "want an http:// or https:// URL"},
	} {
		cmd := exec.Command(script, "--list")
		cmd.Env = append(append(os.Environ(), env...), c.env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), "provision_inventory: ") || !strings.Contains(string(out), c.want) {
			t.Errorf("script with %v: %v %s; want failure with %q", c.env, err, out, c.want)
		}
	}
}
