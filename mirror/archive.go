package mirror

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Archive is one upstream archive served at /NAME/ by the appliance.
type Archive struct {
	Name     string   // the first path element at the appliance: "debian", "debian-security", "ubuntu", "rocky"
	Upstream *url.URL // e.g. http://deb.debian.org/debian (no trailing slash)
}

// validName is a DNS-label-like archive name; it can never start with the
// dot of the cache's own entries (.index, .tmp-*).
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// ParseArchive reads "URL" (the archive is named after the URL's last path
// element) or "NAME=URL", as --mirror takes it.
func ParseArchive(s string) (Archive, error) {
	name, raw := "", s
	if i := strings.IndexByte(s, '='); i > 0 && !strings.ContainsAny(s[:i], ":/") {
		name, raw = s[:i], s[i+1:]
	}
	u, err := parseUpstream(raw)
	if err != nil {
		return Archive{}, fmt.Errorf("mirror archive %q: %w", s, err)
	}
	if name == "" {
		name = path.Base(u.Path)
	}
	if !validName.MatchString(name) {
		return Archive{}, fmt.Errorf("mirror archive %q: name %q is not [a-z0-9][a-z0-9.-]*", s, name)
	}
	return Archive{Name: name, Upstream: u}, nil
}

// parseUpstream accepts an absolute http or https URL without query or
// fragment, and drops the path's trailing slashes.
func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("want http(s)://HOST/PATH without query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// String is NAME=URL, what ParseArchive reads back.
func (a Archive) String() string { return a.Name + "=" + a.Upstream.String() }

// fileURL is the upstream URL of p, a cleaned path inside the archive.
func (a Archive) fileURL(p string) *url.URL {
	u := *a.Upstream
	u.Path = a.Upstream.Path + "/" + p
	return &u
}
