package images

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// scriptByIP serves /boot.ipxe: the script of the system with the client's IP.
func (b *bootHandler) scriptByIP(w http.ResponseWriter, r *http.Request, ev *BootEvent) {
	ev.Kind = KindScript
	h, ok := b.hosts.HostByIP(ev.Client)
	if !ok {
		fail(w, r, ev, fmt.Errorf("ip %s: %w", ev.Client, ErrUnknownHost))
		return
	}
	b.script(w, r, ev, h)
}

// scriptByMAC serves /boot/<mac>.ipxe, for any spelling parseMAC accepts.
func (b *bootHandler) scriptByMAC(w http.ResponseWriter, r *http.Request, ev *BootEvent) {
	ev.Kind = KindScript
	name, ok := strings.CutSuffix(r.PathValue("name"), ".ipxe")
	if !ok {
		fail(w, r, ev, fmt.Errorf("%q is not <mac>.ipxe: %w", r.PathValue("name"), ErrUnknownFile))
		return
	}
	mac, err := parseMAC(name)
	if err != nil {
		fail(w, r, ev, err)
		return
	}
	ev.MAC = mac
	h, ok := b.hosts.HostByMAC(mac, ev.Client)
	if !ok {
		fail(w, r, ev, fmt.Errorf("mac %s: %w", mac, ErrUnknownHost))
		return
	}
	b.script(w, r, ev, h)
}

// script renders and sends the script of h. A withheld build is answered
// with a script that does not boot it, and the event says so.
func (b *bootHandler) script(w http.ResponseWriter, r *http.Request, ev *BootEvent, h Host) {
	ev.Host = h.Name
	if ev.MAC == nil {
		ev.MAC = h.MAC
	}
	if h.Withheld {
		ev.Err = fmt.Errorf("%s (%s): %w", h.Name, ev.Client, ErrWithheld)
	}
	server, err := b.serverURL(r)
	if err != nil {
		fail(w, r, ev, err)
		return
	}
	var files map[string]string
	if h.Netboot {
		files, _ = b.hosts.ImageFiles(h.Image)
	}
	buf := scriptBufs.Get().(*[]byte)
	defer scriptBufs.Put(buf)
	body, err := appendScriptOf((*buf)[:0], h, server, files)
	if err != nil {
		failCode(w, r, ev, http.StatusInternalServerError, err) // the registry's data, not the client's
		return
	}
	reply(w, r, http.StatusOK, "text/plain; charset=utf-8", body) // a Write does not keep body
	*buf = body[:0]
}

// scriptBufs are the buffers scripts are written in.
var scriptBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxHostLen fits a DNS name (253) and a port.
const maxHostLen = 253 + len(":65535")

// serverURL is the configured base URL, or the URL the request came to.
func (b *bootHandler) serverURL(r *http.Request) (string, error) {
	if b.base != "" {
		return b.base, nil
	}
	return RequestURL(r)
}

// RequestURL is the base URL a request came to: "http://" (https:// over
// TLS) and the appliance's own address that the connection arrived on.
// The Host header is not used: it is the client's to choose, and a page
// that rebinds its DNS name to the appliance would have its name written
// into boot scripts and installer templates.
func RequestURL(r *http.Request) (string, error) {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return "", fmt.Errorf("request without a local address: %w", ErrBadRequest)
	}
	host := a.String()
	if ap, err := netip.ParseAddrPort(host); err == nil {
		host = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if len(host) > maxHostLen || strings.ContainsAny(host, "/?#@\\") {
		return "", fmt.Errorf("local address %q cannot be the server's URL: %w", host, ErrBadRequest)
	}
	if err := checkWord(host); err != nil {
		return "", fmt.Errorf("local address: %w (%v)", ErrBadRequest, err)
	}
	return scheme + "://" + host, nil
}
