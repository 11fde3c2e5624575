package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/provision/provision/registry"
)

// maxTemplateForm bounds a template edit form: the largest template
// (registry.MaxTemplateLen), encoded, and the form's other fields.
const maxTemplateForm = 4*registry.MaxTemplateLen + 4096

// templatesPage lists the install templates.
func (u *ui) templatesPage(w http.ResponseWriter, r *http.Request, ss *session) {
	var ts []registry.TemplateInfo
	if err := u.call(r, ss, "GET", "/api/v1/templates", nil, &ts); err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "templates", map[string]any{"Session": ss, "Templates": ts})
}

// templateData is a template's page: its text, and the edit form for a
// session that may edit templates.
type templateData struct {
	Session  *session
	Template registry.TemplateInfo
	Text     string // in the form: the template's, or what a refused edit sent
	Done     string
	Error    string
}

func (u *ui) templateData(r *http.Request, ss *session, name string) (*templateData, error) {
	d := &templateData{Session: ss, Done: r.URL.Query().Get("done")}
	if err := u.call(r, ss, "GET", "/api/v1/templates/"+url.PathEscape(name), nil, &d.Template); err != nil {
		return nil, err
	}
	d.Text = d.Template.Text
	return d, nil
}

func (u *ui) templatePage(w http.ResponseWriter, r *http.Request, ss *session) {
	d, err := u.templateData(r, ss, r.PathValue("name"))
	if err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "template", d)
}

// editTemplate saves the form's text as the template through the API
// (which asks for the templates right). A refusal shows the page again
// with the API's reason and the text as sent.
func (u *ui) editTemplate(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	d, err := u.templateData(r, ss, name)
	if err != nil {
		u.fail(w, err)
		return
	}
	text := strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n") // a textarea sends CRLF
	in := map[string]string{"name": name, "kind": d.Template.Kind, "text": text}
	err = u.call(r, ss, "PUT", "/api/v1/templates/"+url.PathEscape(name), in, nil)
	if err == nil {
		http.Redirect(w, r, "/ui/templates/"+url.PathEscape(name)+"?done="+url.QueryEscape("Saved "+name), http.StatusSeeOther)
		return
	}
	status := http.StatusBadGateway
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.Status
	}
	d.Text, d.Error = text, "Save "+name+": "+err.Error()
	u.renderStatus(w, status, "template", d)
}

// limitBody bounds the body of h's requests to n bytes.
func limitBody(n int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h(w, r)
	}
}
