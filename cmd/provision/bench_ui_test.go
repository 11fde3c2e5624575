package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkDashboard: the fleet page in chromium with 10,000 systems
// ($BENCH_SYSTEMS): ms-first-render is from navigation to the page's
// DOMContentLoaded (the server filters and pages: 100 rows), ms-server the
// server's part of it (responseEnd - requestStart), and ms-update the time
// from a machine fetching its boot script to the open page showing that
// event in its row, through the events stream, without a reload.
func BenchmarkDashboard(b *testing.B) {
	s := startFleet(b)
	ctx := browser(b)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/ui/login"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), s.Token), chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(css("table.fleet"))); err != nil {
		b.Fatal(err)
	}
	var render, server, update time.Duration
	for i := 0; b.Loop(); i++ {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(css(`body[data-stream="open"]`))); err != nil {
			b.Fatal(err)
		}
		timing, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const n = performance.getEntriesByType("navigation")[0]; return [n.domContentLoadedEventEnd - n.startTime, n.responseEnd - n.requestStart]; })()`))
		if err != nil {
			b.Fatal(err)
		}
		render += time.Duration(timing[0] * float64(time.Millisecond))
		server += time.Duration(timing[1] * float64(time.Millisecond))
		mac := fmt.Sprintf("02:00:00:%02x:%02x:%02x", 0, 0, i%100)
		name := fmt.Sprintf("h%05d", i%100)
		sent := time.Now()
		if code, _ := httpDo(b, "GET", s.URL+"/boot/"+mac+".ipxe", ""); code != 200 {
			b.Fatalf("boot script of %s: %d", mac, code)
		}
		js := `(document.querySelector('tr[data-system="` + name + `"] td:last-child') || {}).textContent || ""`
		for {
			txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](js)) // the row is redrawn under any node id
			if err != nil {
				b.Fatal(err)
			}
			if strings.Contains(txt, "script") && strings.Contains(txt, mac) {
				break
			}
			if time.Since(sent) > 10*time.Second {
				b.Fatalf("10 s after the boot script fetch, the row of %s says %q", name, txt)
			}
			time.Sleep(5 * time.Millisecond)
		}
		update += time.Since(sent)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(render), "ms-first-render")
	b.ReportMetric(ms(server), "ms-server")
	b.ReportMetric(ms(update), "ms-update")
}
