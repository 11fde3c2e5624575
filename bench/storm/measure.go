package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// measure downloads url over and over with streams parallel connections
// until budget bytes have come (whole downloads only, at least one per
// stream), and returns the bytes per second of the whole.
func measure(ctx context.Context, url string, local net.IP, streams int, budget int64) (float64, int64, time.Duration, error) {
	var (
		got     atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	start := time.Now()
	for range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := httpClient(local, 30*time.Second)
			defer c.Transport.(*http.Transport).CloseIdleConnections()
			for got.Load() < budget {
				var retries int
				n, _, err := httpGet(ctx, c, url, 10*time.Minute, 1, "", false, false, &retries)
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				got.Add(n)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if first != nil {
		return 0, got.Load(), el, first
	}
	return float64(got.Load()) / el.Seconds(), got.Load(), el, nil
}

func runMeasure(ctx context.Context, w io.Writer, url string, local net.IP, streams []int, budget int64) (float64, error) {
	best := 0.0
	for _, s := range streams {
		bps, n, el, err := measure(ctx, url, local, s, budget)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "measure %s streams %d: %d bytes in %.2fs = %.0f MB/s\n", url, s, n, el.Seconds(), bps/1e6)
		best = max(best, bps)
	}
	return best, nil
}
