package kickstart

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Errors of Render, before any template runs: match them with errors.Is.
var (
	ErrNotFound = errors.New("no such template")
	ErrSnippet  = errors.New("a snippet is only included by other templates, never rendered on its own")
)

// Error is a template error that names the template and line where it
// happened: for an error inside an included snippet, the snippet and its
// line.
type Error struct {
	Template string
	Line     int // from 1; 0 when the error has no line
	Msg      string
}

// Error formats e as "template rocky9: line 14: MSG", or without a line
// "template rocky9: MSG".
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("template %s: %s", e.Template, e.Msg)
	}
	return fmt.Sprintf("template %s: line %d: %s", e.Template, e.Line, e.Msg)
}

// requiredError is the error of the template function required: its
// message is shown as is.
type requiredError string

func (e requiredError) Error() string { return string(e) }

// locRE matches where text/template's messages say the error is:
// "template: NAME:LINE: " (parsing), "template: NAME:LINE:COL: "
// (execution) or "template: NAME: " (execution, no line). Template names
// never hold a ':'.
var locRE = regexp.MustCompile(`^template: ([^:\s]+)(?::([0-9]+)(?::[0-9]+)?)?: `)

// undefinedRE matches the execution error of an include of an undefined
// template.
var undefinedRE = regexp.MustCompile(`^template ("(?:[^"\\]|\\.)*") not defined$`)

// newError converts an error of text/template, returned while parsing or
// executing the template name, into an *Error.
func newError(name string, err error) *Error {
	msg := err.Error()
	m := locRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{Template: name, Msg: strings.TrimPrefix(msg, "template: ")}
	}
	line, _ := strconv.Atoi(m[2]) // 0 without a line
	e := &Error{Template: m[1], Line: line, Msg: execTail(msg[len(m[0]):])}
	var req requiredError
	if errors.As(err, &req) {
		e.Msg = req.Error()
	} else if u := undefinedRE.FindStringSubmatch(e.Msg); u != nil {
		e.Msg = "no such template " + u[1]
	} else if u := unclosedRE.FindStringSubmatch(e.Msg); u != nil && u[1] == e.Template {
		// The parser stops where the file ends; the operator wants the
		// line the action starts on.
		e.Line, _ = strconv.Atoi(u[2])
		e.Msg = "unclosed action"
	}
	return e
}

// unclosedRE matches the parse error of an action that never closes.
var unclosedRE = regexp.MustCompile(`^unclosed action started at ([^:\s]+):([0-9]+)$`)

// execTail strips from an execution error the `executing "NAME" at
// <CONTEXT>: ` that precedes its message. CONTEXT is the text of a
// template node, where ">: " can only appear inside a quoted string.
func execTail(s string) string {
	rest, ok := strings.CutPrefix(s, "executing ")
	if !ok {
		return s
	}
	name, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return s
	}
	rest, ok = strings.CutPrefix(rest[len(name):], " at <")
	if !ok {
		return s
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '"', '`', '\'':
			q, err := strconv.QuotedPrefix(rest[i:])
			if err != nil {
				return s
			}
			i += len(q) - 1
		case '>':
			if tail, ok := strings.CutPrefix(rest[i:], ">: "); ok {
				return tail
			}
		}
	}
	return s
}
