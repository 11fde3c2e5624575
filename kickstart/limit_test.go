package kickstart

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A render that would run for hours, or build gigabytes, is stopped by
// its bounds: within RenderTimeout (with room for a loaded machine), with
// an *Error that names the template and wraps ErrRenderLimit. Before the
// bounds each of these ran until the test's own timeout (or memory) gave
// out.
func TestRenderLimits(t *testing.T) {
	for _, c := range []struct {
		name, text string
		snippets   []Template
		want       string // in the error
	}{
		{"runaway range", "{{range 100000000000}}{{end}}", nil, "stopped after 2s"},
		{"nested ranges", "{{range 100000}}{{range 100000}}{{end}}{{end}}", nil, "stopped after 2s"},
		{"range in a branch", "{{if true}}{{with 1}}{{range 100000000000}}{{end}}{{end}}{{end}}", nil, "stopped after 2s"},
		{"recursion", `{{template "fork" ""}}`, []Template{{"fork", KindSnippet,
			`{{if lt (len .) 40}}{{template "fork" (print . "x")}}{{template "fork" (print . "x")}}{{end}}`}}, "stopped after 2s"},
		{"output", "{{range 100000000}}" + strings.Repeat("0123456789abcdef", 256) + "{{end}}", nil, "the output passes 4194304 bytes"},
		{"doubling", `{{$x := "ab"}}{{range 64}}{{$x = printf "%s%s" $x $x}}{{end}}`, nil, "a string of"},
		{"js", `{{$x := "\\"}}{{range 21}}{{$x = print $x $x}}{{end}}{{js (print $x "\\")}}`, nil, "error calling js: over the render limits: a string of 4194306 bytes"},
		{"shquote", `{{$x := "'"}}{{range 64}}{{$x = shquote $x}}{{end}}`, nil, "a string of"},
		{"replace", `{{$x := "ab"}}{{range 64}}{{$x = replace "" $x $x}}{{end}}`, nil, "a string of"},
		{"indent", `{{indent 1000000000 "x"}}`, nil, "indent 1000000000"},
		{"straight-line calls", `{{$x := "\\"}}{{range 20}}{{$x = print $x $x}}{{end}}` + strings.Repeat(`{{$y := js $x}}`, 2000), nil, "stopped after 2s"},
		{"printf width", `{{printf "%1000000000d" 1}}`, nil, "a width or precision over 1024"},
		{"printf star", `{{printf "%*d" 1000000000 1}}`, nil, "from an argument"},
		{"join", `{{$l := split "," ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"}}{{$s := "x"}}{{range 30}}{{$s = join $s $l}}{{end}}`, nil, "a string of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			set, err := NewSet(nil, append([]Template{{"runaway", KindScript, c.text}}, c.snippets...))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			done := make(chan error, 1)
			go func() { _, err := set.Render("runaway", SampleData()); done <- err }()
			select {
			case err = <-done:
			case <-time.After(10 * RenderTimeout):
				t.Fatalf("the render still runs after %v", 10*RenderTimeout)
			}
			var ke *Error
			if !errors.Is(err, ErrRenderLimit) || !errors.As(err, &ke) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Render: %v, want an *Error wrapping ErrRenderLimit that says %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "template runaway") && !strings.HasPrefix(err.Error(), "template fork") {
				t.Errorf("the error does not name the template: %v", err)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// Vet is bounded too, and a render stops when its caller's context ends.
func TestVetAndContextBounded(t *testing.T) {
	set, err := NewSet(nil, []Template{{"runaway", KindScript, "{{range 100000000000}}{{end}}"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Vet(context.Background(), "runaway"); !errors.Is(err, ErrRenderLimit) {
		t.Errorf("Vet: %v, want ErrRenderLimit", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := set.RenderContext(ctx, "runaway", SampleData()); !errors.Is(err, ErrRenderLimit) || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("RenderContext, cancelled: %v, want ErrRenderLimit, canceled", err)
	}
}

// The bounds change nothing for templates within them: the functions
// that are now bounded give what they gave, and an error inside a range
// still names the template and line of the action that failed.
func TestRenderWithinLimits(t *testing.T) {
	set, err := NewSet(nil, []Template{{"ok", KindScript,
		`{{range $i, $e := .System.DNS}}{{printf "%03d %-4s|" $i $e}}{{end}}{{print 1 "a"}}{{println "b"}}` +
			`{{html "<a>"}}{{js "'"}}{{urlquery "a b"}}{{indent 2 "x\ny"}}{{replace "a" "b" "aa"}}{{join "," .System.MACs}}` +
			"{{upper \"x\"}}{{range 3}}{{.}}{{end}}\n{{range 2}}\n{{$.Settings.nope}}{{end}}"}})
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData()
	d.Settings = map[string]string{}
	_, err = set.Render("ok", d)
	if err == nil || err.Error() != `template ok: line 3: map has no entry for key "nope"` {
		t.Errorf("Render: %v, want the missing key at line 3", err)
	}
	d.Settings["nope"] = "!"
	got, err := set.Render("ok", d)
	want := "000 10.0.0.1|1ab\n&lt;a&gt;\\'a+b  x\n  ybb52:54:00:aa:bb:01X012\n\n!\n!"
	if err != nil || string(got) != want {
		t.Errorf("Render = %q, %v; want %q", got, err, want)
	}
}

func TestCheckFormat(t *testing.T) {
	for format, ok := range map[string]bool{
		"%d 2000": true, "%%2000": true, "%1024d": true, "%.1024f": true, "%[2]*d": false, "%1025d": false,
		"%-08.3f|%x": true, "%.2000f": false, "a%[1]s 99999": true,
	} {
		if err := checkFormat(format); (err == nil) != ok {
			t.Errorf("checkFormat(%q) = %v, want ok %v", format, err, ok)
		}
	}
}

// oneBuild is Builds with one build, whatever the token or client.
type oneBuild struct{ b Build }

func (o oneBuild) ByToken(string, netip.Addr) (Build, bool)            { return o.b, true }
func (o oneBuild) ByIP(netip.Addr) (Build, bool)                       { return o.b, true }
func (o oneBuild) Started(context.Context, string) error               { return nil }
func (o oneBuild) Done(context.Context, string) error                  { return nil }
func (o oneBuild) Failed(context.Context, string, []byte, int64) error { return nil }

// An installer asking for a template that never stops rendering gets a
// 500 within the render's bound, and the log names the template.
func TestHandlerRenderBounded(t *testing.T) {
	set, err := NewSet(nil, []Template{{"runaway", KindScript, "{{range 100000000000}}{{end}}"}})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h, err := Handler(HandlerConfig{
		Builds:    oneBuild{Build{System: "web001", Token: "tok", Template: "runaway", Set: set, Data: SampleData()}},
		ServerURL: func(*http.Request) (string, error) { return "http://10.0.0.1", nil },
		Log:       slog.New(slog.NewTextHandler(&log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	start := time.Now()
	c := &http.Client{Timeout: 10 * RenderTimeout}
	resp, err := c.Get(srv.URL + "/ks/tok")
	if err != nil {
		t.Fatalf("GET /ks/tok: %v (after %v)", err, time.Since(start))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(log.String(), "template runaway") || !strings.Contains(log.String(), "stopped after") {
		t.Fatalf("GET /ks/tok: %s, log %q; want 500 and a log naming template runaway, stopped", resp.Status, log.String())
	}
	t.Logf("500 after %v", time.Since(start).Round(time.Millisecond))
}
