package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/registry"
)

// machineRow is one discovered machine in the Discovered view: a line
// of its hardware.
type machineRow struct {
	registry.Machine
	Product, CPU, Disks, LLDP, BMC string
}

func summarize(m registry.Machine) machineRow {
	inv := m.Inventory
	r := machineRow{Machine: m, Product: strings.TrimSpace(inv.DMI.Vendor + " " + inv.DMI.Product), CPU: "-", Disks: "-", LLDP: "-", BMC: "-"}
	if inv.CPU.Threads > 0 {
		r.CPU = fmt.Sprintf("%dx %dc/%dt", max(inv.CPU.Sockets, 1), inv.CPU.Cores, inv.CPU.Threads)
	}
	if inv.MemoryMiB > 0 {
		r.CPU += ", " + human.Bytes(inv.MemoryMiB<<20)
	}
	if len(inv.Disks) > 0 {
		var total int64
		for _, d := range inv.Disks {
			total += d.SizeBytes
		}
		r.Disks = fmt.Sprintf("%d, %s", len(inv.Disks), human.Bytes(total))
	}
	if n := inv.Neighbour(); n != nil {
		r.LLDP = strings.TrimSpace(orDash(n.SwitchName, n.ChassisID) + " " + n.PortID)
	}
	if inv.BMC != nil && inv.BMC.IP != "" {
		r.BMC = inv.BMC.IP
	}
	if m.BMC != nil {
		if m.BMC.Address != "" {
			r.BMC = m.BMC.Address
		}
		switch {
		case m.BMC.Enrolled:
			r.BMC += " (enrolled)"
		case m.BMC.Error != "":
			r.BMC += " (enrolment failed)"
		}
	}
	return r
}

func orDash(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return "-"
}

// discoveredPage lists the discovered machines (?all=1: the registered
// ones too), each with a link to its inventory and accept form.
func (u *ui) discoveredPage(w http.ResponseWriter, r *http.Request, ss *session) {
	u.machines(w, r, ss, "discovered")
}

// discoveredRows is the part of the Discovered view that events change,
// for the script to swap in as machines report.
func (u *ui) discoveredRows(w http.ResponseWriter, r *http.Request, ss *session) {
	u.machines(w, r, ss, "discoveredrows")
}

func (u *ui) machines(w http.ResponseWriter, r *http.Request, ss *session, page string) {
	all := r.URL.Query().Get("all") != ""
	path := "/api/v1/machines?state=" + registry.MachineDiscovered
	if all {
		path = "/api/v1/machines"
	}
	var ms []registry.Machine
	if err := u.call(r, ss, "GET", path, nil, &ms); err != nil {
		u.fail(w, err)
		return
	}
	rows := make([]machineRow, len(ms))
	for i, m := range ms {
		rows[i] = summarize(m)
	}
	u.render(w, page, map[string]any{"Session": ss, "Machines": rows, "All": all, "Full": len(ms) >= 1000})
}

// machineData is a machine's page: its inventory, the accept form and
// its Console panel.
type machineData struct {
	Session  *session
	Machine  registry.Machine
	Console  *consoleView
	Profiles []string
	Subnets  []string
	Form     url.Values // what the accept form held, after a refusal
	Error    string
}

func (u *ui) machineData(r *http.Request, ss *session, key string) (*machineData, error) {
	d := &machineData{Session: ss, Form: url.Values{"ip": {"auto"}}}
	if err := u.call(r, ss, "GET", "/api/v1/machines/"+url.PathEscape(key), nil, &d.Machine); err != nil {
		return nil, err
	}
	var profiles []registry.Profile
	var subnets []registry.Subnet
	if err := u.call(r, ss, "GET", "/api/v1/profiles", nil, &profiles); err != nil {
		return nil, err
	}
	if err := u.call(r, ss, "GET", "/api/v1/subnets", nil, &subnets); err != nil {
		return nil, err
	}
	for _, p := range profiles {
		d.Profiles = append(d.Profiles, p.Name)
	}
	for _, s := range subnets {
		d.Subnets = append(d.Subnets, s.Name)
	}
	d.Console = u.machineConsole(r, ss, d.Machine, consoleLines)
	return d, nil
}

func (u *ui) machinePage(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.machineData(r, ss, r.PathValue("key"))
	if err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "machine", d)
}

// accept makes the machine a system through the API, and shows the new
// system's page; a refusal shows the machine's page again with the
// API's reason and the form as it was filled.
func (u *ui) accept(w http.ResponseWriter, r *http.Request, ss *session) {
	key := r.PathValue("key")
	in := api.AcceptInput{Name: strings.TrimSpace(r.PostFormValue("name")), Profile: r.PostFormValue("profile"),
		IP: strings.TrimSpace(r.PostFormValue("ip")), Subnet: r.PostFormValue("subnet"), Reinstall: r.PostFormValue("reinstall") != ""}
	var res api.ReinstallResult
	err := u.call(r, ss, "POST", "/api/v1/machines/"+url.PathEscape(key)+"/accept", in, &res)
	if err == nil {
		done := "Accepted as " + res.System.Name + " (" + res.System.IP + ")"
		switch {
		case res.Power != "":
			done += "; its BMC was told: " + res.Power
		case res.PowerError != "":
			done += "; not powered: " + res.PowerError
		}
		http.Redirect(w, r, "/ui/systems/"+url.PathEscape(res.System.Name)+"?done="+url.QueryEscape(done), http.StatusSeeOther)
		return
	}
	d, err2 := u.machineData(r, ss, key)
	if err2 != nil {
		u.fail(w, err2)
		return
	}
	d.Form, d.Error = r.PostForm, "Accept "+key+": "+err.Error()
	status := http.StatusBadGateway
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.Status
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	u.render(w, "machine", d)
}
