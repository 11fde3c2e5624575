package images

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// KindReport is the kind of a BootEvent that a booting host posted about
// itself (POST /boot/event); its Step and Detail say what happened.
const KindReport = "report"

// ReportSteps are the steps a diskless host reports, in boot order (see
// package bootenv): its boot environment's, then its role's boot hooks';
// a disk image's deploy reports disk, partitioned, the rootfs steps,
// unpacked and bootloader between them; an inspection (the inventory
// agent on a registered system) reports discover.
var ReportSteps = []string{
	"bootenv", "discover", "cdb fetched", "cdb failed", "disk", "partitioned", "rootfs retry", "rootfs refused", "rootfs fetched",
	"unpacked", "bootloader", "switched", "hooks", "hook failed", "booted", "failed",
}

// maxReport bounds a report's body; maxDetail its detail line.
const (
	maxReport = 1024
	maxDetail = 200
)

// report serves POST /boot/event: a body of two lines, the step (one of
// ReportSteps) and a detail, from the system with the client's IP. Reports
// come from the host itself, like its script request, so they are keyed by
// its address, as /boot.ipxe is.
func (b *bootHandler) report(w http.ResponseWriter, r *http.Request, ev *BootEvent) {
	ev.Kind = KindReport
	h, ok := b.hosts.HostByIP(ev.Client)
	if !ok {
		fail(w, r, ev, fmt.Errorf("ip %s: %w", ev.Client, ErrUnknownHost))
		return
	}
	ev.Host, ev.MAC = h.Name, h.MAC
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReport))
	if err != nil {
		fail(w, r, ev, fmt.Errorf("report of %s: %v: %w", h.Name, err, ErrBadRequest))
		return
	}
	step, detail, _ := strings.Cut(string(body), "\n")
	if !slices.Contains(ReportSteps, step) {
		fail(w, r, ev, fmt.Errorf("report of %s: unknown step %q: %w", h.Name, clean(step, 40), ErrBadRequest))
		return
	}
	ev.Step, ev.Detail = step, clean(strings.TrimSpace(detail), maxDetail)
	reply(w, r, http.StatusNoContent, "text/plain; charset=utf-8", nil)
}

// clean keeps at most n bytes of s, with control characters as spaces.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
