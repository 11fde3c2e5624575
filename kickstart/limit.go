package kickstart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Every execution of a template (Render, Vet) is bounded: it stops with
// ErrRenderLimit after RenderTimeout, or when its output or any string it
// builds would pass MaxRenderSize.
//
// text/template cannot be cancelled, so the bound is built into the
// parsed templates: NewSet puts a call of tickFunc at the start of every
// template (which bounds recursion) and of every range body (which bounds
// loops, whatever they range over); the call fails once the render's
// time is up. Each string function refuses a result over MaxRenderSize
// (several of text/template's built-ins are replaced to that end), so no
// single step of a render can run long or take much memory, and the
// render returns in the caller's goroutine: nothing is left running.
const (
	RenderTimeout = 2 * time.Second
	MaxRenderSize = 4 << 20
)

// ErrRenderLimit is the error of a render stopped by a limit.
var ErrRenderLimit = errors.New("over the render limits")

// tickFunc is the function that the parsed templates call at the start of
// each template and of each range body.
const tickFunc = "_tick"

// maxWidth bounds a width or precision in a printf format and indent's
// count.
const maxWidth = 1024

// addTicks puts a call of tickFunc at the start of tree and of each range
// body in it.
func addTicks(tree *parse.Tree) {
	if tree == nil || tree.Root == nil {
		return
	}
	tickList(tree.Root, tree.Root.Pos)
}

func tickList(l *parse.ListNode, pos parse.Pos) {
	if l == nil {
		return
	}
	tickNested(l)
	l.Nodes = append([]parse.Node{tickNode(pos)}, l.Nodes...)
}

// tickNested ticks what is nested in l's branches.
func tickNested(l *parse.ListNode) {
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.IfNode:
			tickBranch(&n.BranchNode, false)
		case *parse.WithNode:
			tickBranch(&n.BranchNode, false)
		case *parse.RangeNode:
			tickBranch(&n.BranchNode, true)
		}
	}
}

// tickBranch ticks the lists inside b; with loop, its body too.
func tickBranch(b *parse.BranchNode, loop bool) {
	for _, l := range []*parse.ListNode{b.List, b.ElseList} {
		if l == nil {
			continue
		}
		if loop && l == b.List {
			tickList(l, b.Pos)
			continue
		}
		tickNested(l) // not a loop: only what is nested in it
	}
}

// tickNode is {{_tick}} at pos: an error in it is reported at the range
// (or template) it stands for.
func tickNode(pos parse.Pos) *parse.ActionNode {
	id := parse.NewIdentifier(tickFunc).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

// budget is one render's: its deadline (ctx) and its output.
type budget struct {
	ctx context.Context
	out bytes.Buffer
}

// tick fails once the render's time is up (or its caller gave up).
func (b *budget) tick() (string, error) { return "", b.alive() }

func (b *budget) alive() error {
	if err := b.ctx.Err(); err != nil {
		return b.stopped(err)
	}
	return nil
}

func (b *budget) stopped(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: stopped after %v (a loop or recursion that does not end?)", ErrRenderLimit, RenderTimeout)
	}
	return fmt.Errorf("%w: stopped: %v", ErrRenderLimit, err)
}

// Write takes output up to MaxRenderSize.
func (b *budget) Write(p []byte) (int, error) {
	if b.out.Len()+len(p) > MaxRenderSize {
		return 0, fmt.Errorf("%w: the output passes %d bytes", ErrRenderLimit, MaxRenderSize)
	}
	if err := b.ctx.Err(); err != nil {
		return 0, b.stopped(err)
	}
	return b.out.Write(p)
}

// execute runs the template name of root for d within the limits, with
// funcs (if any) replacing root's and, with lenient, a missing key read as
// its zero value.
func execute(ctx context.Context, root *template.Template, name string, d any, funcs template.FuncMap, lenient bool) ([]byte, error) {
	t, err := root.Clone()
	if err != nil {
		return nil, newError(name, err)
	}
	if lenient {
		t.Option("missingkey=zero")
	}
	ctx, cancel := context.WithTimeout(ctx, RenderTimeout)
	defer cancel()
	b := &budget{ctx: ctx}
	all := limitedFuncs(b.alive)
	maps.Copy(all, funcs)
	all[tickFunc] = b.tick
	t.Funcs(all)
	if err := t.ExecuteTemplate(b, name, d); err != nil {
		e := newError(name, err)
		if errors.Is(err, ErrRenderLimit) {
			e.Msg = strings.TrimPrefix(e.Msg, "error calling "+tickFunc+": ")
			return nil, &limitError{e}
		}
		return nil, e
	}
	return b.out.Bytes(), nil
}

// limitError is the *Error of a render stopped by a limit: errors.Is
// finds ErrRenderLimit in it.
type limitError struct{ e *Error }

func (l *limitError) Error() string   { return l.e.Error() }
func (l *limitError) Unwrap() []error { return []error{l.e, ErrRenderLimit} }

// fit refuses a string over MaxRenderSize.
func fit(s string) (string, error) {
	if len(s) > MaxRenderSize {
		return "", tooLong(len(s))
	}
	return s, nil
}

func tooLong(n int) error {
	return fmt.Errorf("%w: a string of %d bytes, the limit is %d", ErrRenderLimit, n, MaxRenderSize)
}

// fits refuses args whose strings add up to more than MaxRenderSize.
func fits(args ...any) error {
	n := 0
	for _, a := range args {
		switch a := a.(type) {
		case string:
			n += len(a)
		case []string:
			for _, s := range a {
				n += len(s)
			}
		case []byte:
			n += len(a)
		}
	}
	if n > MaxRenderSize {
		return tooLong(n)
	}
	return nil
}

// limitedFuncs are the functions whose results can grow without bound
// when applied again and again (or with a large count), each refusing a
// result over MaxRenderSize before making it where it can: the package's
// own and text/template's printf, print, println, html, js and urlquery.
// Each first asks alive, which fails once the render's time is up: a
// run of such calls with no range between them stops too.
func limitedFuncs(alive func() error) template.FuncMap {
	str := func(f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			return fit(f(s))
		}
	}
	escaper := func(f func(...any) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			if err := fits(args...); err != nil {
				return "", err
			}
			return fit(f(args...))
		}
	}
	return template.FuncMap{
		"join": func(sep string, list []string) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			n := len(sep) * max(len(list)-1, 0)
			for _, s := range list {
				n += len(s)
			}
			if n > MaxRenderSize {
				return "", tooLong(n)
			}
			return strings.Join(list, sep), nil
		},
		"replace": func(old, new, s string) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			k := strings.Count(s, old) // for old == "": runes + 1
			if old == "" {
				k = utf8.RuneCountInString(s) + 1
			}
			if n := len(s) + k*(len(new)-len(old)); n > MaxRenderSize {
				return "", tooLong(n)
			}
			return strings.ReplaceAll(s, old, new), nil
		},
		"indent": func(n int, s string) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			if n > maxWidth {
				return "", fmt.Errorf("%w: indent %d, the limit is %d", ErrRenderLimit, n, maxWidth)
			}
			if size := len(s) + max(n, 0)*(strings.Count(s, "\n")+1); size > MaxRenderSize {
				return "", tooLong(size)
			}
			return indent(n, s), nil
		},
		"lower":   str(strings.ToLower),
		"upper":   str(strings.ToUpper),
		"shquote": str(shquote),
		"yaml":    str(yamlQuote),
		"printf": func(format string, args ...any) (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			if err := checkFormat(format); err != nil {
				return "", err
			}
			if err := fits(append(args, format)...); err != nil {
				return "", err
			}
			return fit(fmt.Sprintf(format, args...))
		},
		"print":    escaper(fmt.Sprint),
		"println":  escaper(fmt.Sprintln),
		"html":     escaper(template.HTMLEscaper),
		"js":       escaper(template.JSEscaper),
		"urlquery": escaper(template.URLQueryEscaper),
	}
}

// checkFormat refuses a printf format with a width or precision over
// maxWidth, or taken from an argument ('*'): fmt would pad to it in
// memory before anything could stop it.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		num := 0
	verb:
		for i++; i < len(format); i++ {
			switch c := format[i]; {
			case c == '*':
				return fmt.Errorf("%w: printf %q: a width or precision from an argument (*)", ErrRenderLimit, format)
			case c >= '0' && c <= '9':
				if num = min(num*10+int(c-'0'), maxWidth+1); num > maxWidth {
					return fmt.Errorf("%w: printf %q: a width or precision over %d", ErrRenderLimit, format, maxWidth)
				}
			case strings.IndexByte("+-# .[]", c) >= 0:
				num = 0
			default:
				break verb // the verb, or the second % of %%
			}
		}
	}
	return nil
}
