package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// maxEditTries bounds how often Edit reads again an object that another
// writer changed between its read and its write.
// Each try waits a random while longer than the last, so that writers
// that collided do not collide again.
const maxEditTries = 10

// Edit reads the object at path into obj, lets change modify obj, and
// sends only the fields that changed, as a JSON merge patch (PATCH) with
// If-Match: the ETag read. If another writer changed the object in
// between (412), it reads it again and applies change again. It returns
// the names of the fields it changed, sorted: when none, nothing was sent.
func (c *Client) Edit(ctx context.Context, path, query string, obj any, change func() error) ([]string, error) {
	for try := 1; ; try++ {
		reset(obj)
		hdr, err := c.do(ctx, "GET", path, nil, nil, obj)
		if err != nil {
			return nil, err
		}
		before, err := asMap(obj)
		if err != nil {
			return nil, err
		}
		if err := change(); err != nil {
			return nil, err
		}
		after, err := asMap(obj)
		if err != nil {
			return nil, err
		}
		patch := diffPatch(before, after)
		if len(patch) == 0 {
			return nil, nil
		}
		_, err = c.do(ctx, "PATCH", path+query, http.Header{"If-Match": {hdr.Get("ETag")}}, patch, nil)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed && try < maxEditTries {
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(try) * int64(20*time.Millisecond)))):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return slices.Sorted(maps.Keys(patch)), nil
	}
}

// reset zeroes what obj points to, so that a second read starts clean.
func reset(obj any) {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
}

func asMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return m, dec.Decode(&m)
}

// diffPatch is the merge patch (RFC 7386) that turns before into after:
// changed and new fields, null for those removed, objects recursively.
func diffPatch(before, after map[string]any) map[string]any {
	patch := map[string]any{}
	for k, a := range after {
		b, had := before[k]
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		switch {
		case had && aok && bok:
			if d := diffPatch(bm, am); len(d) > 0 {
				patch[k] = d
			}
		case !had || !reflect.DeepEqual(a, b):
			patch[k] = a
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			patch[k] = nil
		}
	}
	return patch
}

// do is Raw for JSON with extra request headers, returning the answer's.
func (c *Client) do(ctx context.Context, method, path string, hdr http.Header, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, err
		}
	}
	return resp.Header, nil
}
