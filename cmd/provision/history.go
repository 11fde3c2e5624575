package main

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newHistory() *cobra.Command {
	c := &cobra.Command{
		Use:   "history [NAME] [--limit N] [--since DURATION|TIME] [--json]",
		Short: "Show the audit log, of one object or of everything",
		Long: `Show the audit log, oldest first: when (UTC, to the second), what was done to
which object, by which token and from which address, and for an edit the
fields that changed (old → new). The history of a name follows its renames
back. A name that never existed is an error.`,
		Example: `  provision history web101
  provision history --since 1h
  provision history --since 2026-12-01T08:00:00Z --limit 50
  provision history web101 --json | jq '.[] | select(.op == "edit")'`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			limit, _ := c.Flags().GetInt("limit")
			if limit < 1 {
				return usage(fmt.Errorf("--limit %d: want 1 or more", limit))
			}
			since, err := parseSince(c)
			if err != nil {
				return err
			}
			q := url.Values{}
			q.Set("limit", strconv.Itoa(min(limit, 10000))) // the server's largest page
			if len(a) == 1 {
				q.Set("name", a[0])
			}
			// Pages go back in time, each older than the one before: read
			// until limit records are in, or the page reaches before since.
			var h []registry.Change
			err = api.Pages(ctx(c), client(c), api.Path("history")+"?"+q.Encode(), func(page []registry.Change) bool {
				h = append(page, h...)
				if len(page) == 0 || len(h) >= limit {
					return false
				}
				at, err := time.Parse(time.RFC3339Nano, page[0].At)
				return since.IsZero() || err == nil && !at.Before(since)
			})
			if err != nil {
				return err
			}
			if !since.IsZero() {
				h = slices.DeleteFunc(h, func(ch registry.Change) bool {
					at, err := time.Parse(time.RFC3339Nano, ch.At)
					return err == nil && at.Before(since)
				})
			}
			if len(h) > limit {
				h = h[len(h)-limit:]
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), historyJSON(h))
			}
			for _, ch := range h {
				printChange(c.OutOrStdout(), ch)
			}
			return nil
		},
	}
	c.Flags().Bool("json", false, "print JSON (old and new objects as JSON)")
	c.Flags().Int("limit", 1000, "the last N records at most")
	c.Flags().String("since", "", "only records since a time (RFC 3339) or this long ago (e.g. 1h, 30m)")
	return c
}

func parseSince(c *cobra.Command) (time.Time, error) {
	s, _ := c.Flags().GetString("since")
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usage(fmt.Errorf("--since %q: want a duration (1h) or an RFC 3339 time (2026-12-01T08:00:00Z)", s))
}

// historyJSON is history with old and new as JSON objects.
func historyJSON(h []registry.Change) []map[string]any {
	out := []map[string]any{}
	for _, ch := range h {
		out = append(out, ch.Document())
	}
	return out
}

// printChange writes one record: a line, then the fields an edit changed.
func printChange(w io.Writer, ch registry.Change) {
	at := ch.At
	if t, err := time.Parse(time.RFC3339Nano, ch.At); err == nil {
		at = t.UTC().Format(time.RFC3339)
	}
	what := ch.Kind + " " + ch.Name
	if from := ch.RenamedFrom(); from != "" {
		what = ch.Kind + " " + from + " → " + ch.Name
	}
	line := fmt.Sprintf("%s  %-7s %s", at, ch.Op, what)
	if ch.By != "" {
		line += "  by " + ch.By
	}
	if ch.From != "" {
		line += " from " + ch.From
	}
	fmt.Fprintln(w, line+note(ch.Note))
	for _, f := range ch.Diff() {
		fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, or(f.Old, "(none)"), or(f.New, "(none)"))
	}
}
