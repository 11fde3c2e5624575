package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// ConsoleLines reads a system's console status and its last n recorded
// lines (0: the status alone; the server allows 10,000), since a time
// back: a duration (10m, by the server's clock) or an RFC 3339 time, ""
// for all that are kept.
func (c *Client) ConsoleLines(ctx context.Context, name, since string, n int) (*ConsoleView, error) {
	return c.consoleView(ctx, Path("systems", name, "console"), since, n)
}

// MachineConsoleLines is ConsoleLines of a discovered machine's console,
// the machine given by its boot MAC or DMI serial.
func (c *Client) MachineConsoleLines(ctx context.Context, key, since string, n int) (*ConsoleView, error) {
	return c.consoleView(ctx, Path("machines", key, "console"), since, n)
}

// consoleView reads the console view at path.
func (c *Client) consoleView(ctx context.Context, path, since string, n int) (*ConsoleView, error) {
	q := url.Values{"lines": {strconv.Itoa(n)}}
	if since != "" {
		q.Set("since", since)
	}
	var v ConsoleView
	if err := c.Do(ctx, "GET", path+"?"+q.Encode(), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// FollowConsole reads a system's console stream and calls fn for each
// line until fn returns an error, ctx ends or the server closes the
// stream; since ("" for none) first asks for the lines recorded since
// then (see ConsoleLines). A line with Partial set is continued by the
// next one; a line at the seam of recorded and live lines may come twice.
func (c *Client) FollowConsole(ctx context.Context, name, since string, fn func(ConsoleLine) error) error {
	return c.followConsole(ctx, name, Path("systems", name, "console", "stream"), since, fn)
}

// FollowMachineConsole is FollowConsole of a discovered machine's
// console, the machine given by its boot MAC or DMI serial.
func (c *Client) FollowMachineConsole(ctx context.Context, key, since string, fn func(ConsoleLine) error) error {
	return c.followConsole(ctx, "machine "+key, Path("machines", key, "console", "stream"), since, fn)
}

// followConsole follows the console stream at path; name says whose in
// errors.
func (c *Client) followConsole(ctx context.Context, name, path, since string, fn func(ConsoleLine) error) error {
	if since != "" {
		path += "?since=" + url.QueryEscape(since)
	}
	return readStream(ctx, c, path, name+"'s console stream", nil, fn)
}

// CaptureConsole starts (on) or ends (off) the capture of a system's
// console that an operator asks for, and returns its status; off ends only
// that ask, not a build's capture.
func (c *Client) CaptureConsole(ctx context.Context, name string, on bool) (*ConsoleStatus, error) {
	var st ConsoleStatus
	if err := c.Do(ctx, "POST", Path("systems", name, "console", "capture"), map[string]bool{"on": on}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// AttachConsole connects to a system's console interactively: what is
// read from in is typed on it, and its raw bytes (control sequences
// included: for a terminal) are written to out as they come. It returns
// when in ends (nil: the caller detached), ctx ends, or the server ends
// the console (an error saying why). Both directions share one HTTP/1.1
// request, the body streamed while the answer is read.
func (c *Client) AttachConsole(ctx context.Context, name string, in io.Reader, out io.Writer) error {
	return c.AttachConsoleReady(ctx, name, in, out, nil)
}

// AttachConsoleReady is AttachConsole calling ready, if not nil, once the
// server has accepted the attach (before the console's first byte).
func (c *Client) AttachConsoleReady(ctx context.Context, name string, in io.Reader, out io.Writer, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closes the connection: a body still sending (a blocked read of in) is let go
	resp, err := c.open(ctx, "POST", Path("systems", name, "console", "attach"),
		io.NopCloser(in), // not closed: in (a terminal) is the caller's
		http.Header{"Content-Type": {"application/octet-stream"}}, ready)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s's console: %w", name, err)
	}
	if msg := resp.Trailer.Get(ConsoleErrorTrailer); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	return nil
}
