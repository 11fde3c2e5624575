package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A viewer's pages show who is signed in and no action: no power or
// reinstall links, no template edit, no accept; an operator's show power
// reinstall and netboot (not template edit);
// the admin token's show all of them.
func TestPagesFollowTheRole(t *testing.T) {
	ru := newRoleUI(t, false)
	actionLinks := []string{"action=reinstall", "action=power-on", "action=inspect"}
	vera, _ := ru.session(t, "view")
	host := ru.get(t, vera, "/ui/systems/tk1")
	has(t, host, "vera's host page", true, `vera · viewer`, `id="withheld"`, "vera (viewer) may not build systems (the build right): that takes the operator role")
	has(t, host, "vera's host page", false, append(actionLinks, "action=netboot", `id="edit-template"`)...)
	has(t, ru.get(t, vera, "/ui/templates/inst"), "vera's template page", false, `<textarea`, `id="template-form"`)

	olga, _ := ru.session(t, "op")
	host = ru.get(t, olga, "/ui/systems/tk1")
	has(t, host, "olga's host page", true, append(actionLinks, `olga · operator`)...)
	has(t, host, "olga's host page", false, `id="withheld"`)
	has(t, host, "olga's host page", true, "action=netboot-off")
	has(t, host, "olga's host page", false, `id="edit-template"`)
	tpl := ru.get(t, olga, "/ui/templates/inst")
	has(t, tpl, "olga's template page", false, `<textarea`, `id="template-form"`)
	has(t, tpl, "olga's template page", true, `id="template-view"`, "may not edit templates")

	adm, _ := ru.session(t, "adm")
	host = ru.get(t, adm, "/ui/systems/tk1")
	has(t, host, "the admin's host page", true, append(actionLinks, "action=netboot-off", `id="edit-template"`, `admin token`)...)
	has(t, host, "the admin's host page", false, `id="withheld"`)
	has(t, ru.get(t, adm, "/ui/templates/inst"), "the admin's template page", true, `<textarea`)
}

// A scoped operator sees actions on the systems of its site only, is
// told why on the others, and the API refuses a forged action on one.
func TestPagesFollowTheScope(t *testing.T) {
	ru := newRoleUI(t, false)
	tom, csrf := ru.session(t, "tokyo")
	has(t, ru.get(t, tom, "/ui/systems/tk1"), "tk1 (tokyo)", true, "action=reinstall", "action=power-cycle", `<span class="scope" id="scope">site tokyo</span>`)
	os1 := ru.get(t, tom, "/ui/systems/os1")
	has(t, os1, "os1 (osaka)", false, "action=reinstall", "action=power-cycle")
	has(t, os1, "os1 (osaka)", true, "tom (operator) may build systems of site tokyo only: os1 is of site osaka, profile inst")
	before, _ := ru.changes(t, "os1")
	w := do(ru.h, "POST", "/ui/systems/os1/action", url.Values{"csrf": {csrf}, "action": {"reinstall"}, "confirm": {"os1"}}, tom)
	if after, _ := ru.changes(t, "os1"); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "os1 is of site osaka") || after != before {
		t.Errorf("tom's forged reinstall of os1: %d, %d changes before, %d after\n%s", w.Code, before, after, w.Body.String())
	}
	before, _ = ru.changes(t, "tk1")
	w = do(ru.h, "POST", "/ui/systems/tk1/action", url.Values{"csrf": {csrf}, "action": {"reinstall"}, "confirm": {"tk1"}}, tom)
	if after, by := ru.changes(t, "tk1"); w.Code != http.StatusSeeOther || after != before+1 || by != "tom" {
		t.Errorf("tom's reinstall of tk1: %d, %d changes before, %d after, the last by %q\n%s", w.Code, before, after, by, w.Body.String())
	}
}

// Forms a page did not offer, posted from the session anyway (a stale
// page, or forged), are refused by the API, and the page says why:
// a viewer's reinstall, an operator's template edit. An operator's
// reinstall goes through, signed by her.
func TestForgedActionsRefused(t *testing.T) {
	ru := newRoleUI(t, false)
	vera, csrf := ru.session(t, "view")
	before, _ := ru.changes(t, "tk1")
	w := do(ru.h, "POST", "/ui/systems/tk1/action", url.Values{"csrf": {csrf}, "action": {"reinstall"}, "confirm": {"tk1"}}, vera)
	if after, _ := ru.changes(t, "tk1"); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "vera (viewer) may not build systems (the build right): that takes the operator role") || after != before {
		t.Errorf("vera's forged reinstall: %d, %d changes before, %d after\n%s", w.Code, before, after, w.Body.String())
	}
	olga, csrf := ru.session(t, "op")
	w = do(ru.h, "POST", "/ui/templates/inst", url.Values{"csrf": {csrf}, "text": {"#!/bin/sh\nrm -rf /\n"}}, olga)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "olga (operator) may not edit templates (the templates right): that takes the admin role") {
		t.Errorf("olga's forged template edit: %d\n%s", w.Code, w.Body.String())
	}
	if tp, _ := ru.reg.Snapshot().Templates().Lookup("inst"); strings.Contains(tp.Text, "rm -rf") {
		t.Error("olga's forged template edit changed the template")
	}
	w = do(ru.h, "POST", "/ui/systems/tk1/action", url.Values{"csrf": {csrf}, "action": {"reinstall"}, "confirm": {"tk1"}}, olga)
	if after, by := ru.changes(t, "tk1"); w.Code != http.StatusSeeOther || after != before+1 || by != "olga" {
		t.Errorf("olga's reinstall: %d, %d changes before, %d after, the last by %q\n%s", w.Code, before, after, by, w.Body.String())
	}
}

// The admin edits a template in its page: the browser's CRLF lines are
// stored as LF.
func TestTemplateEdit(t *testing.T) {
	ru := newRoleUI(t, false)
	adm, csrf := ru.session(t, "adm")
	w := do(ru.h, "POST", "/ui/templates/inst", url.Values{"csrf": {csrf}, "text": {"#!/bin/sh\r\n# {{.System.Name}} v2\r\n"}}, adm)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("the admin's edit: %d\n%s", w.Code, w.Body.String())
	}
	if tp, _ := ru.reg.Snapshot().Templates().Lookup("inst"); tp.Text != "#!/bin/sh\n# {{.System.Name}} v2\n" {
		t.Errorf("the template holds %q", tp.Text)
	}
	w = do(ru.h, "POST", "/ui/templates/inst", url.Values{"csrf": {csrf}, "text": {"{{.Nope"}}, adm)
	if w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "{{.Nope") {
		t.Errorf("a template that does not parse: %d\n%s", w.Code, w.Body.String())
	}
}
