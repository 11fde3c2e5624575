package api

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/provision/provision/ldapauth"
	"github.com/provision/provision/registry"
)

// tourStep is one request of TestOpenAPITour, sent with the admin token,
// and the status it must get; before, if set, prepares it.
type tourStep struct {
	method, path, body string
	status             int
	before             func(*testing.T, *registry.Registry)
}

// tourSteps calls every operation once, in an order where each finds
// what it needs: sha is an uploaded file's, files an image's.
func tourSteps(sha, files string) []tourStep {
	const mac = "52:54:00:00:00:01"
	rr := "mail.dsas. 3600 IN A 10.0.0.25"
	return concat(
		[]tourStep{
			{"GET", "/healthz", "", 200, nil},
			{"GET", "/metrics", "", 200, nil},
			{"GET", "/api/v1/openapi.json", "", 200, nil},
			{"GET", "/api/v1/whoami", "", 200, nil},
			{"POST", "/api/v1/backup", "", 200, nil},
			{"PUT", "/api/v1/blobs?sha256=" + sha, "kernel", 201, nil},
			{"POST", "/api/v1/subnets", `{"name":"lab","cidr":"10.1.0.0/24","pool":"10.1.0.200-10.1.0.210"}`, 201, nil},
			{"GET", "/api/v1/subnets", "", 200, nil},
			{"GET", "/api/v1/subnets/lab", "", 200, nil},
			{"PUT", "/api/v1/subnets/lab", `{"name":"lab","cidr":"10.1.0.0/24","gateway":"10.1.0.1","pool":"10.1.0.200-10.1.0.210"}`, 200, nil},
			{"PATCH", "/api/v1/subnets/lab", `{"dns_servers":["10.1.0.2"]}`, 200, nil},
			{"POST", "/api/v1/images", `{"name":"img","kind":"install","files":` + files + `}`, 201, nil},
			{"GET", "/api/v1/images", "", 200, nil},
			{"GET", "/api/v1/images/img", "", 200, nil},
			{"PUT", "/api/v1/images/img", `{"name":"img","kind":"install","files":` + files + `}`, 200, nil},
			{"POST", "/api/v1/bootenv", `{}`, 200, nil},
			{"POST", "/api/v1/profiles", `{"name":"db","image":"img","kickstart":"debian12-preseed","settings":{"role":"db"},"secret_values":{"db_password":"pw"}}`, 201, nil},
			{"GET", "/api/v1/profiles", "", 200, nil},
			{"GET", "/api/v1/profiles/db", "", 200, nil},
			{"PUT", "/api/v1/profiles/db", `{"name":"db","image":"img","kickstart":"debian12-preseed","kernel_args":"quiet","secret_settings":{"db_password":""}}`, 200, nil},
			{"PATCH", "/api/v1/profiles/db", `{"kernel_args":"quiet splash"}`, 200, nil},
		},
		systemSteps(),
		hookSteps(),
		accessSteps(),
		[]tourStep{
			{"PUT", "/api/v1/settings/ntp", `{"value":"10.1.0.3"}`, 200, nil},
			{"PUT", "/api/v1/settings/token", `{"value":"s3cret","secret":true}`, 200, nil},
			{"GET", "/api/v1/settings", "", 200, nil},
			{"GET", "/api/v1/settings/ntp", "", 200, nil},
			{"DELETE", "/api/v1/settings/ntp", "", 204, nil},
			{"GET", "/api/v1/records", "", 200, nil},
			{"POST", "/api/v1/records", `{"records":["` + rr + `"]}`, 200, nil},
			{"DELETE", "/api/v1/records?rr=" + url.QueryEscape(rr), "", 204, nil},
			{"POST", "/api/v1/templates", `{"name":"t1","kind":"script","text":"#!/bin/sh\necho {{ .System.Name }}\n"}`, 201, nil},
			{"GET", "/api/v1/templates", "", 200, nil},
			{"GET", "/api/v1/templates/t1", "", 200, nil},
			{"PUT", "/api/v1/templates/t1", `{"name":"t1","kind":"script","text":"#!/bin/sh\necho {{ .System.IP }}\n"}`, 200, nil},
			{"GET", "/api/v1/templates/t1/render?system=db01", "", 200, nil},
			{"GET", "/api/v1/export", "", 200, nil},
			{"POST", "/api/v1/import?dry_run=1", "settings:\n  imported: \"1\"\n", 200, nil},
			{"GET", "/api/v1/history?limit=5", "", 200, nil},
			{"GET", "/api/v1/events?limit=10", "", 200, nil},
			{"GET", "/api/v1/discovered", "", 200, nil},
			{"GET", "/api/v1/fleet", "", 200, nil},
			{"GET", "/api/v1/inventory", "", 200, nil},
			{"GET", "/api/v1/inventory?host=db01", "", 200, nil},
			{"GET", "/api/v1/machines", "", 200, nil},
			{"GET", "/api/v1/machines/" + mac, "", 200, nil},
			{"POST", "/api/v1/machines/" + mac + "/watch", `{"watch":true}`, 200, nil},
			{"GET", "/api/v1/machines/" + mac + "/console?lines=10&since=1h", "", 200, nil},
			{"GET", "/api/v1/machines/" + mac + "/console/stream?since=1h", "", 200, nil},
			{"POST", "/api/v1/rules", `{"name":"r1","priority":10,"match":"true","name_template":"n-{{ .DMI.Serial }}","profile":"db","subnet":"lab"}`, 201, nil},
			{"GET", "/api/v1/rules", "", 200, nil},
			{"GET", "/api/v1/rules/r1", "", 200, nil},
			{"PUT", "/api/v1/rules/r1", `{"name":"r1","priority":20,"match":"true","name_template":"n-{{ .DMI.Serial }}","profile":"db","subnet":"lab"}`, 200, nil},
			{"PATCH", "/api/v1/rules/r1", `{"priority":30}`, 200, nil},
			{"POST", "/api/v1/rules/r1/test", `{"key":"` + mac + `"}`, 200, nil},
			{"POST", "/api/v1/machines/" + mac + "/accept", `{"name":"m1","profile":"db","subnet":"lab","ip":"auto"}`, 201, nil},
			{"GET", "/api/v1/systems/m1/inventory", "", 200, nil},
			{"POST", "/api/v1/systems/m1/inspect", "", 202, nil},
			{"DELETE", "/api/v1/machines/52:54:00:00:00:02", "", 204, nil},
			{"DELETE", "/api/v1/rules/r1", "", 204, nil},
			{"DELETE", "/api/v1/systems/m1", "", 204, nil},
			{"DELETE", "/api/v1/systems/db01", "", 204, nil},
			{"DELETE", "/api/v1/templates/t1", "", 204, nil},
			{"DELETE", "/api/v1/profiles/db", "", 204, nil},
			{"DELETE", "/api/v1/images/img", "", 204, nil},
			{"DELETE", "/api/v1/subnets/lab", "", 204, nil},
		})
}

// systemSteps are a system's: its fields, its build, its power, its
// console.
func systemSteps() []tourStep {
	return []tourStep{
		{"POST", "/api/v1/systems", `{"name":"db01","macs":["aa:bb:cc:dd:ee:02"],"ip":"10.1.0.12","profile":"db","bmc":{"address":"10.0.9.2","user":"admin"},"bmc_password":"pw"}`, 201, nil},
		{"GET", "/api/v1/systems", "", 200, nil},
		{"GET", "/api/v1/systems/db01", "", 200, nil},
		{"PUT", "/api/v1/systems/db01", `{"name":"db01","macs":["aa:bb:cc:dd:ee:02"],"ip":"10.1.0.12","profile":"db","netboot":true,"bmc":{"address":"10.0.9.2","user":"admin"}}`, 200, nil},
		{"PATCH", "/api/v1/systems/db01", `{"settings":{"rack":"r1"},"interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","primary":true}]}`, 200, nil},
		{"POST", "/api/v1/systems/db01/reinstall", "", 200, nil},
		{"GET", "/api/v1/systems/db01/install-log", "", 200, failBuild},
		{"POST", "/api/v1/systems/db01/reinstall", "", 200, nil},
		{"POST", "/api/v1/systems/db01/abort", "", 200, nil},
		{"POST", "/api/v1/systems/db01/netboot", `{"netboot": false}`, 200, nil},
		{"GET", "/api/v1/systems/db01/events", "", 200, nil},
		{"GET", "/api/v1/systems/db01/report", "", 200, nil},
		{"GET", "/api/v1/systems/db01/power", "", 200, nil},
		{"POST", "/api/v1/systems/db01/power", `{"action":"on"}`, 200, nil},
		{"GET", "/api/v1/power?fresh=1", "", 200, nil},
		{"POST", "/api/v1/systems/db01/console/capture", `{"on": true}`, 200, nil},
		{"GET", "/api/v1/systems/db01/console?lines=10&since=1h", "", 200, nil},
		{"GET", "/api/v1/systems/db01/console/stream?since=1h", "", 200, nil},
		{"POST", "/api/v1/systems/db01/console/attach", "", 200, nil},
	}
}

// failBuild ends db01's build as its installer would on failure, with a log.
func failBuild(t *testing.T, reg *registry.Registry) {
	sys, ok := reg.Snapshot().SystemByName("db01")
	if !ok {
		t.Fatal("no system db01")
	}
	log := &registry.InstallLog{Size: 5, Log: []byte("boom\n")}
	if _, err := reg.BuildFailed(context.Background(), string(sys.BuildToken), "the installer failed", log); err != nil {
		t.Fatal(err)
	}
}

func concat(parts ...[]tourStep) []tourStep {
	var out []tourStep
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// accessSteps are users', tokens' and directory login's: alice is made,
// scoped, given tokens that are revoked, and removed; dana signs in
// (tourLogin).
func accessSteps() []tourStep {
	return []tourStep{
		{"POST", "/api/v1/users", `{"name":"alice","role":"operator","full_name":"Alice Liddell"}`, 201, nil},
		{"GET", "/api/v1/users", "", 200, nil},
		{"GET", "/api/v1/users/alice", "", 200, nil},
		{"PUT", "/api/v1/users/alice", `{"name":"alice","role":"operator","scopes":["profile=db"]}`, 200, nil},
		{"POST", "/api/v1/tokens", `{"user":"alice","label":"ci","expires":"2099-01-01T00:00:00Z"}`, 201, nil},
		{"POST", "/api/v1/tokens", `{"user":"alice"}`, 201, nil},
		{"GET", "/api/v1/tokens", "", 200, nil},
		{"GET", "/api/v1/tokens?user=alice", "", 200, nil},
		{"DELETE", "/api/v1/tokens/{token-id}", "", 200, nil},
		{"DELETE", "/api/v1/tokens?user=alice", "", 200, nil},
		{"POST", "/api/v1/login", `{"user":"dana","password":"pw"}`, 201, nil},
		{"DELETE", "/api/v1/users/alice", "", 204, nil},
	}
}

// tourPath fills a step's path: {token-id} is the ID of alice's first
// token.
func tourPath(path string, reg *registry.Registry) string {
	if toks := reg.Snapshot().Tokens("alice"); len(toks) > 0 {
		path = strings.ReplaceAll(path, "{token-id}", toks[0].ID)
	}
	return path
}

// tourLogin is a Login that knows one person, dana, an operator.
func tourLogin(reg *registry.Registry) func(context.Context, string, string) (*registry.User, error) {
	return func(ctx context.Context, user, password string) (*registry.User, error) {
		if user != "dana" || password != "pw" {
			return nil, ldapauth.ErrBadCredentials
		}
		if err := reg.PutDirectoryUser(ctx, registry.User{Name: "dana", Role: "operator", FullName: "Dana"}); err != nil {
			return nil, err
		}
		u, _ := reg.Snapshot().User("dana")
		return u, nil
	}
}
