package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Lists that grow with the network (discovered machines) or with time
// (history) are answered a page at a time: ?limit=N (at most the list's
// cap; more is answered with the cap) and, when more follow, a header
//
//	Link: </api/v1/discovered?after=CURSOR&limit=N>; rel="next"
//
// (RFC 8288) naming the next page. The body stays a JSON array.
const (
	discoveredPage = 1000  // discovered: default and largest page
	historyPage    = 1000  // history: default page
	historyMax     = 10000 // history: largest page
)

// pageLimit is the request's ?limit, def when absent, capped at most;
// ok false when it was answered with 400.
func pageLimit(w http.ResponseWriter, r *http.Request, def, most int) (int, bool) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return def, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a positive number (at most %d)", l, most))
		return 0, false
	}
	return min(n, most), true
}

// linkNext names the next page: the request's URL with key set to value
// and limit to the page's size.
func linkNext(w http.ResponseWriter, r *http.Request, key, value string, limit int) {
	q := r.URL.Query()
	q.Set(key, value)
	q.Set("limit", strconv.Itoa(limit))
	w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
}

// nextLink is the target of a Link header's rel="next", "" when none.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "rel" && strings.Trim(v, `"`) == "next" {
				return strings.Trim(target, "<>")
			}
		}
	}
	return ""
}

// Pages reads a paged list from path, page by page: each page is decoded
// into a []T and handed to page, until the last one or until page
// returns false. Only a next page on the same server (a path) is
// followed.
func Pages[T any](ctx context.Context, c *Client, path string, page func([]T) bool) error {
	for path != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.BaseURL, "/")+path, nil)
		if err != nil {
			return err
		}
		resp, err := c.send(req)
		if err != nil {
			return err
		}
		var items []T
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		next := nextLink(resp.Header.Get("Link"))
		if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || next == path {
			next = "" // not this server's, or the same page again
		}
		if !page(items) {
			return nil
		}
		path = next
	}
	return nil
}
