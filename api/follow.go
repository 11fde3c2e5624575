package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/provision/provision/registry"
)

// Follow reads the events stream (of one system, or all when system is
// "") and calls fn for each event until fn returns an error, ctx ends or
// the server closes the stream. ready, if not nil, is called once the
// stream is open: events recorded after that are not missed.
func (c *Client) Follow(ctx context.Context, system string, ready func(), fn func(registry.Event) error) error {
	path := "/api/v1/events/stream"
	if system != "" {
		path += "?system=" + url.QueryEscape(system)
	}
	return readStream(ctx, c, path, "events stream", ready, fn)
}

// readStream reads the Server-Sent Events at path, each event's data one
// T in JSON, and calls fn for each until fn returns an error, ctx ends or
// the server closes the stream; what names the stream in errors. ready,
// if not nil, is called once the stream is open.
func readStream[T any](ctx context.Context, c *Client, path, what string, ready func(), fn func(T) error) error {
	resp, err := c.open(ctx, "GET", path, nil, http.Header{"Accept": {"text/event-stream"}}, ready)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue // comments, keep-alives, blank separators
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: the server at %s closed it", what, c.BaseURL)
}

// open sends a request whose answer is a stream (the events, a console)
// and returns the answer once the server has accepted it, ready (if not
// nil) called then; body, if not nil, is sent as it is read. The caller
// closes the answer's body.
func (c *Client) open(ctx context.Context, method, path string, body io.Reader, hdr http.Header, ready func()) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	if ready != nil {
		ready()
	}
	return resp, nil
}

// errBuildEnded stops the events stream when the build ended.
var errBuildEnded = errors.New("build ended")

// WaitBuild opens the events stream of the system name, starts its build
// (start, e.g. a reinstall), calls progress for each of its events, and
// returns the system once it is installed or failed. The state is also
// polled every 2 s, in case the stream misses the end. A timeout > 0 gives
// up after that long, with an error naming the system and its state.
func (c *Client) WaitBuild(ctx context.Context, name string, start func() error, progress func(registry.Event), timeout time.Duration) (*registry.System, error) {
	cx, cancel := context.WithCancel(ctx)
	defer cancel()
	var giveUp <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		giveUp = t.C
	}
	started := make(chan error, 1)
	go func() {
		err := c.Follow(cx, name, func() { started <- start() }, func(e registry.Event) error {
			progress(e)
			if e.Kind == "done" || e.Kind == "failed" {
				return errBuildEnded
			}
			return nil
		})
		if !errors.Is(err, errBuildEnded) && !errors.Is(err, context.Canceled) {
			select {
			case started <- err:
			default:
			}
		}
		cancel()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	ended := cx.Done() // the stream saw the end (or broke): poll now
	for {
		var sys registry.System
		if err := c.Do(ctx, "GET", Path("systems", name), nil, &sys); err != nil {
			return nil, err
		}
		if sys.Status == registry.StateInstalled || sys.Status == registry.StateFailed {
			return &sys, nil
		}
		select {
		case <-ended:
			ended = nil
		case <-tick.C:
		case <-giveUp:
			return nil, fmt.Errorf("system %s: still %s after %v", name, sys.Status, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// InstallLogTail is the last n lines of the installer's log of the
// system name, or nothing when it sent none.
func (c *Client) InstallLogTail(ctx context.Context, name string, n int) []string {
	var log bytes.Buffer
	if err := c.Raw(ctx, "GET", Path("systems", name, "install-log"), "", nil, -1, &log); err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(log.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
