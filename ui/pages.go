package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/registry"
)

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"ago":   ago,
		"clock": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
		"bytes": human.Bytes,
		"mib":   func(n int64) string { return human.Bytes(n << 20) },
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/console.html"))
	pages := map[string]*template.Template{}
	for _, p := range []string{"login", "fleet", "host", "confirm", "rows", "live", "consolestate", "discovered", "machine", "discoveredrows", "templates", "template"} {
		t := template.Must(base.Clone())
		pages[p] = template.Must(t.ParseFS(templateFS, "templates/"+p+".html"))
	}
	return pages
}

// ago says how long ago t was, as an operator reads it.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// fleetQuery is the fleet view's filters, from the page's query string.
type fleetQuery struct {
	State, Profile, Subnet, Q string
	Page                      int
}

func parseFleetQuery(r *http.Request) fleetQuery {
	q := r.URL.Query()
	f := fleetQuery{State: q.Get("state"), Profile: q.Get("profile"), Subnet: q.Get("subnet"), Q: q.Get("q")}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

// values is the query string of f, with page set to page.
func (f fleetQuery) values(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "profile": f.Profile, "subnet": f.Subnet, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

const pageSize = 100

type fleetData struct {
	Session          *session
	Query            fleetQuery
	Fleet            api.Fleet
	States           []string
	Profiles         []string
	Subnets          []string
	Prev, Next, Self string
	Pages            int
}

func (u *ui) fleet(r *http.Request, ss *session) (*fleetData, error) {
	f := parseFleetQuery(r)
	v := url.Values{"offset": {strconv.Itoa((f.Page - 1) * pageSize)}, "limit": {strconv.Itoa(pageSize)}}
	for k, s := range map[string]string{"state": f.State, "profile": f.Profile, "subnet": f.Subnet, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	d := &fleetData{Session: ss, Query: f, States: api.FleetStates, Self: f.values(f.Page)}
	if err := u.call(r, ss, "GET", "/api/v1/fleet?"+v.Encode(), nil, &d.Fleet); err != nil {
		return nil, err
	}
	d.Pages = max(1, (d.Fleet.Matched+pageSize-1)/pageSize)
	if f.Page > 1 {
		d.Prev = "?" + f.values(f.Page-1)
	}
	if f.Page < d.Pages {
		d.Next = "?" + f.values(f.Page+1)
	}
	return d, nil
}

func (u *ui) fleetPage(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.fleet(r, ss)
	if err != nil {
		u.fail(w, err)
		return
	}
	var profiles []registry.Profile
	var subnets []registry.Subnet
	if err := u.call(r, ss, "GET", "/api/v1/profiles", nil, &profiles); err != nil {
		u.fail(w, err)
		return
	}
	if err := u.call(r, ss, "GET", "/api/v1/subnets", nil, &subnets); err != nil {
		u.fail(w, err)
		return
	}
	for _, p := range profiles {
		d.Profiles = append(d.Profiles, p.Name)
	}
	for _, s := range subnets {
		d.Subnets = append(d.Subnets, s.Name)
	}
	u.render(w, "fleet", d)
}

// fleetRows is the part of the fleet page that changes: counts, rows and
// pages, for the script to swap in when events arrive.
func (u *ui) fleetRows(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.fleet(r, ss)
	if err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "rows", d)
}

// bar is one step of the waterfall: when it started after the first
// step, and how long until the next one.
type bar struct {
	Event              registry.Event
	Offset, Dur        time.Duration
	X, W, Y, TextY     float64 // in the SVG's units
	Label, Start, Took string
}

type hostData struct {
	Session  *session
	System   registry.System
	Row      api.FleetRow
	Report   api.Report
	Bars     []bar
	Height   int
	Total    string
	Rendered string
	RenderEr string
	History  []registry.Change
	Log      string
	Done     string // the result of the last action
	Actions  []action
	Withheld string // why some actions are not shown (the role, the scopes)
	// Inventory is the machine the system was, with its hardware; nil
	// when it never reported one.
	Inventory    *registry.Machine
	InventoryErr string // why the inventory could not be read
	// Console is the Console panel (the full page only).
	Console *consoleView
	site    string // the system's site, for a scoped session
}

func (u *ui) host(r *http.Request, ss *session, name string, full bool) (*hostData, error) {
	d := &hostData{Session: ss, Done: r.URL.Query().Get("done")}
	if err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(name)+"/report", nil, &d.Report); err != nil {
		return nil, err
	}
	d.System = *d.Report.System
	var fl api.Fleet
	if err := u.call(r, ss, "GET", "/api/v1/fleet?limit=1000&q="+url.QueryEscape(name), nil, &fl); err != nil {
		return nil, err
	}
	for _, row := range fl.Systems {
		if row.Name == name {
			d.Row = row
		}
	}
	d.Bars, d.Total = waterfall(d.Report.LastBoot)
	d.Height = 24*len(d.Bars) + 8
	if err := u.allowActions(r, ss, d); err != nil {
		return nil, err
	}
	if !full {
		return d, nil
	}
	d.Console = u.console(r, ss, d.System, d.site, consoleLines)
	if d.Report.Template != "" {
		err := u.call(r, ss, "GET", "/api/v1/templates/"+url.PathEscape(d.Report.Template)+"/render?system="+url.QueryEscape(name), nil, &d.Rendered)
		if err != nil {
			d.RenderEr = err.Error()
		}
	}
	if err := u.call(r, ss, "GET", "/api/v1/history?limit=50&name="+url.QueryEscape(name), nil, &d.History); err != nil {
		return nil, err
	}
	var inv registry.Machine
	var ae *apiError
	switch err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(name)+"/inventory", nil, &inv); {
	case err == nil:
		d.Inventory = &inv
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound: // it never reported one
	default:
		d.InventoryErr = err.Error()
	}
	slices.Reverse(d.History)
	if d.System.Status == registry.StateFailed && ss.Can(access.Secrets) {
		var log string
		if err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(name)+"/install-log", nil, &log); err == nil {
			const keep = 64 << 10
			if len(log) > keep {
				log = "... (the first " + strconv.Itoa(len(log)-keep) + " bytes left out)\n" + log[len(log)-keep:]
			}
			d.Log = log
		}
	}
	return d, nil
}

// allowActions gives d the actions that make sense for its system and
// that the session may take on it: for a scoped session, the system's
// site is its subnet's.
func (u *ui) allowActions(r *http.Request, ss *session, d *hostData) error {
	if ss.Scoped() {
		var subnets []registry.Subnet
		if err := u.call(r, ss, "GET", "/api/v1/subnets", nil, &subnets); err != nil {
			return err
		}
		d.site = siteOf(d.System.IP, subnets)
	}
	d.Actions, d.Withheld = ss.permitted(actionsFor(d.System, d.Report.Template != ""), d.System, d.site)
	return nil
}

// waterfall lays the timeline's steps out on a 1000-unit axis.
func waterfall(evs []registry.Event) ([]bar, string) {
	if len(evs) == 0 {
		return nil, ""
	}
	start, end := evs[0].At, evs[len(evs)-1].At
	total := end.Sub(start)
	scale := 1.0
	if total > 0 {
		scale = 760 / float64(total)
	}
	bars := make([]bar, len(evs))
	for i, e := range evs {
		b := bar{Event: e, Offset: e.At.Sub(start), Label: e.Kind, Start: "+" + e.At.Sub(start).Round(time.Millisecond).String()}
		if i+1 < len(evs) {
			b.Dur = evs[i+1].At.Sub(e.At)
		}
		b.Took = b.Dur.Round(time.Millisecond).String()
		b.X = 180 + float64(b.Offset)*scale
		b.W = max(3, float64(b.Dur)*scale)
		b.Y = float64(4 + 24*i)
		b.TextY = b.Y + 13
		bars[i] = b
	}
	return bars, total.Round(time.Millisecond).String()
}

func (u *ui) hostPage(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.host(r, ss, r.PathValue("name"), true)
	if err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "host", d)
}

// hostLive is the part of the host page that events change.
func (u *ui) hostLive(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.host(r, ss, r.PathValue("name"), false)
	if err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "live", d)
}

// stream relays the API's event stream to the page, as the session.
func (u *ui) stream(w http.ResponseWriter, r *http.Request, ss *session) {
	req := r.Clone(r.Context())
	req.URL = &url.URL{Path: "/api/v1/events/stream", RawQuery: url.Values{"system": {r.URL.Query().Get("system")}}.Encode()}
	if r.URL.Query().Get("system") == "" {
		req.URL.RawQuery = ""
	}
	req.RequestURI = req.URL.RequestURI()
	req.Header = http.Header{"Authorization": {"Bearer " + ss.token}}
	u.API.ServeHTTP(w, req)
}
