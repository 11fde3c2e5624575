package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(c.BaseURL, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ready != nil {
		ready()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue // comments, keep-alives, blank separators
		}
		var e registry.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return fmt.Errorf("events stream: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("events stream: %w", err)
	}
	return fmt.Errorf("events stream: the server at %s closed it", c.BaseURL)
}
