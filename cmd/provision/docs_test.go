package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The documentation is README.md (the front door: what provision is, the
// demo, a tour, a map of docs/) and one file per topic in docs/. The tests
// here keep it true to the CLI: the command reference is made from it, and
// every command a doc shows in a shell block is one the CLI takes.

const docsRoot = "../.." // the repository, from cmd/provision

// docFiles are README.md and every docs/*.md, relative to the repository.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(docsRoot, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md (%v)", err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(docsRoot, d)
		files = append(files, rel)
	}
	return files
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandReference is docs/commands.md's command list, made from the CLI:
// every command with its use line and what it does.
func commandReference() string {
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if !c.HasSubCommands() && c.Runnable() && c.HasParent() {
			use := strings.Join(strings.Fields(c.Use), " ")
			parent := strings.TrimSuffix(c.CommandPath(), " "+c.Name())
			b.WriteString(parent + " " + use + "\n    " + c.Short + "\n")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
	return b.String()
}

// zonecfgReference is zonecfg's usage lines, as its --help prints them.
func zonecfgReference(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(zonecfg, "--help").Output()
	if err != nil {
		t.Fatalf("zonecfg --help: %v", err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "usage:"))
		if len(f) > 0 && f[0] == "zonecfg" {
			b.WriteString(strings.Join(f, " ") + "\n")
		}
	}
	return b.String()
}

// generated checks the text between begin and end in a doc: want, or
// with UPDATE_DOCS=1 rewritten to it.
func generated(t *testing.T, name, begin, end, want string) {
	t.Helper()
	doc := readDoc(t, name)
	i := strings.Index(doc, begin)
	j := strings.Index(doc[max(i, 0):], end) + max(i, 0)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q ... %q", name, begin, end)
	}
	if got := doc[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_DOCS") == "1" {
			if err := os.WriteFile(filepath.Join(docsRoot, name), []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is not what the code says between %q and %q; run UPDATE_DOCS=1 go test -run %s ./cmd/provision\n--- %s\n%s\n--- the code\n%s", name, begin, end, t.Name(), name, got, want)
	}
}

// docs/commands.md's command reference is the CLI's, and its zonecfg
// usage zonecfg's: UPDATE_DOCS=1 rewrites them.
func TestDocsCommands(t *testing.T) {
	defer parallel(t)()
	generated(t, "docs/commands.md",
		"<!-- commands: made by TestDocsCommands; UPDATE_DOCS=1 go test -run TestDocsCommands ./cmd/provision -->\n```\n",
		"```\n<!-- end of commands -->", commandReference())
	generated(t, "docs/commands.md",
		"<!-- zonecfg: made by TestDocsCommands from zonecfg --help; UPDATE_DOCS=1 go test -run TestDocsCommands ./cmd/provision -->\n```\n",
		"```\n<!-- end of zonecfg -->", zonecfgReference(t))
}

// A docCommand is one provision or zonecfg command of a doc: a line of a
// shell block, or a code span of the prose (`provision image build`).
type docCommand struct {
	where   string // FILE:LINE
	program string // "provision" or "zonecfg"
	args    []string
	// partial: a code span, which may name a command without its
	// arguments, or a line that elides some ("..."); its verbs and flags
	// are checked, not what it lacks.
	partial bool
}

func (c docCommand) String() string {
	return c.where + ": " + c.program + " " + strings.Join(c.args, " ")
}

// shellLangs are the info strings of the fenced blocks that hold shell.
var shellLangs = []string{"sh", "bash", "shell", "console"}

// docCommands finds the provision and zonecfg command lines of a
// document's shell blocks (```sh, ```bash, ```shell, ```console).
func docCommands(name, doc string) ([]docCommand, error) {
	var cmds []docCommand
	var block []string // the shell block's lines, continuations joined
	var blockLine []int
	fence, lang, start := "", "", 0
	lines := strings.Split(doc, "\n")
	for n, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		if fence == "" {
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				fence = trimmed[:3]
				lang = strings.Fields(trimmed[3:] + " x")[0]
				start = n + 1
				block, blockLine = nil, nil
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) {
			if slices.Contains(shellLangs, lang) {
				for k, l := range block {
					words, err := shellWords(l)
					if err != nil {
						return nil, fmt.Errorf("%s:%d: %v", name, blockLine[k], err)
					}
					for _, w := range splitCommands(words) {
						if c, ok := asDocCommand(w); ok {
							c.where = fmt.Sprintf("%s:%d", name, blockLine[k])
							if i := slices.Index(c.args, "..."); i >= 0 {
								c.args, c.partial = slices.Delete(c.args, i, i+1), true
							}
							cmds = append(cmds, c)
						}
					}
				}
			}
			fence = ""
			continue
		}
		if k := len(block) - 1; k >= 0 && strings.HasSuffix(block[k], "\\") {
			block[k] = strings.TrimSuffix(block[k], "\\") + " " + line
		} else {
			block, blockLine = append(block, line), append(blockLine, n+1)
		}
	}
	if fence != "" {
		return nil, fmt.Errorf("%s:%d: a code block that does not end", name, start)
	}
	for n, line := range outsideCodeBlocks(doc) {
		for _, m := range inlineCodeRE.FindAllString(line, -1) {
			if c, ok := spanCommand(strings.Trim(m, "`")); ok {
				c.where = fmt.Sprintf("%s:%d", name, n+1)
				cmds = append(cmds, c)
			}
		}
	}
	return cmds, nil
}

// spanCommand reads a code span that starts with provision or zonecfg as
// a partial command: its syntax ([--flag], a|b, ...) reduced to words.
func spanCommand(span string) (docCommand, bool) {
	f := strings.Fields(span)
	if len(f) < 2 || f[0] != "provision" && f[0] != "zonecfg" {
		return docCommand{}, false
	}
	c := docCommand{program: f[0], partial: true}
	for _, w := range f[1:] {
		w = strings.Trim(w, "[]()")
		w, _, _ = strings.Cut(w, "|")
		if w != "" && w != "..." && !strings.HasSuffix(w, "...") {
			c.args = append(c.args, w)
		}
	}
	return c, true
}

// shellWords splits a shell line into words as sh does for what the docs
// use: quotes, backslashes, $(...) and comments. Operators (| || && ; &)
// are words of their own.
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == ' ' || ch == '\t':
			flush()
		case ch == '#' && !inWord:
			flush()
			return words, nil
		case ch == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case ch == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				w.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, errors.New(`unterminated " quote`)
			}
			inWord, i = true, j
		case ch == '\\' && i+1 < len(line):
			w.WriteByte(line[i+1])
			inWord, i = true, i+1
		case ch == '$' && i+1 < len(line) && line[i+1] == '(':
			depth, j := 0, i
			for ; j < len(line); j++ {
				if line[j] == '(' {
					depth++
				} else if line[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j >= len(line) {
				return nil, errors.New("unterminated $(")
			}
			w.WriteString(line[i : j+1])
			inWord, i = true, j
		case ch == '|' || ch == '&' || ch == ';':
			flush()
			op := string(ch)
			if i+1 < len(line) && line[i+1] == ch && ch != ';' {
				op, i = op+op, i+1
			}
			words = append(words, op)
		case ch == '>' || ch == '<':
			// A redirection: drop it, its file and its descriptor (2>).
			if inWord && strings.Trim(w.String(), "0123456789") == "" {
				w.Reset()
				inWord = false
			}
			flush()
			j := i + 1
			for j < len(line) && (line[j] == '>' || line[j] == '&') {
				j++
			}
			for j < len(line) && line[j] == ' ' {
				j++
			}
			for j < len(line) && line[j] != ' ' {
				j++
			}
			i = j - 1
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	flush()
	return words, nil
}

// splitCommands splits words at the shell's operators.
func splitCommands(words []string) [][]string {
	var cmds [][]string
	var cur []string
	for _, w := range words {
		switch w {
		case "|", "||", "&&", ";", "&":
			cmds, cur = append(cmds, cur), nil
		default:
			cur = append(cur, w)
		}
	}
	return append(cmds, cur)
}

var assignmentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// asDocCommand recognizes a provision or zonecfg command: the program by
// its name or path (./provision, bin/provision, /usr/lib/provision/zonecfg,
// go run ./cmd/provision), after variable assignments and sudo.
func asDocCommand(words []string) (docCommand, bool) {
	for len(words) > 0 && (assignmentRE.MatchString(words[0]) || words[0] == "sudo") {
		words = words[1:]
	}
	if len(words) >= 3 && words[0] == "go" && words[1] == "run" {
		switch strings.TrimPrefix(words[2], "./") {
		case "cmd/provision":
			return docCommand{program: "provision", args: words[3:]}, true
		case "cmd/zonecfg":
			return docCommand{program: "zonecfg", args: words[3:]}, true
		}
		return docCommand{}, false
	}
	if len(words) == 0 {
		return docCommand{}, false
	}
	switch prog := filepath.Base(words[0]); {
	case (prog == "provision" || prog == "zonecfg") && (prog == words[0] || strings.Contains(words[0], "/")):
		return docCommand{program: prog, args: words[1:]}, true
	}
	return docCommand{}, false
}

// checkProvision runs a doc's command through the CLI as far as cobra
// goes before running it: the command it names and its flags, and unless
// partial the number of arguments, the flags it needs and those it takes
// together.
func checkProvision(args []string, partial bool) error {
	root := newRoot()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if err := c.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %v", c.CommandPath(), err)
	}
	if help, _ := c.Flags().GetBool("help"); help {
		return nil
	}
	if v, _ := c.Flags().GetBool("version"); v && c == root {
		return nil
	}
	pos := c.Flags().Args()
	if c.HasSubCommands() && len(pos) == 0 {
		if partial {
			return nil
		}
		return fmt.Errorf("%s names a group of commands, not one", c.CommandPath())
	}
	if !c.Runnable() {
		return fmt.Errorf("%s does not run", c.CommandPath())
	}
	if partial && !c.HasSubCommands() {
		return nil
	}
	if err := c.ValidateArgs(pos); err != nil { // a group's: an unknown command
		return fmt.Errorf("%s: %v", c.CommandPath(), err)
	}
	if err := c.ValidateRequiredFlags(); err != nil {
		return fmt.Errorf("%s: %v", c.CommandPath(), err)
	}
	if err := c.ValidateFlagGroups(); err != nil {
		return fmt.Errorf("%s: %v", c.CommandPath(), err)
	}
	return nil
}

// zonecfgCLI is what zonecfg's usage says it takes: its commands and its
// flags.
type zonecfgCLI struct {
	verbs, flags []string
}

var usageFlagRE = regexp.MustCompile(`(?:^|[\[ |])(--?[a-z][a-z-]*)`)

// zonecfgUsage reads the built zonecfg's --help: each usage line is
// "zonecfg [FLAGS...] VERB [FLAGS...] ARGS".
func zonecfgUsage(t *testing.T) zonecfgCLI {
	t.Helper()
	out, err := exec.Command(zonecfg, "--help").Output()
	if err != nil {
		t.Fatalf("zonecfg --help: %v", err)
	}
	var z zonecfgCLI
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "usage:" {
			f = f[1:]
		}
		if len(f) == 0 || f[0] != "zonecfg" {
			continue
		}
		depth := 0
		verb := ""
		for _, w := range f[1:] {
			if depth == 0 && verb == "" && !strings.HasPrefix(w, "[") && !strings.HasPrefix(w, "-") {
				verb = w
			}
			depth += strings.Count(w, "[") - strings.Count(w, "]")
		}
		z.verbs = append(z.verbs, verb)
		for _, m := range usageFlagRE.FindAllStringSubmatch(line, -1) {
			if !slices.Contains(z.flags, m[1]) {
				z.flags = append(z.flags, m[1])
			}
		}
	}
	if len(z.verbs) == 0 || len(z.flags) == 0 {
		t.Fatalf("zonecfg --help has no usage lines:\n%s", out)
	}
	return z
}

// check checks a zonecfg command: its flags (each takes a value, as all of
// zonecfg's do) and its command.
func (z zonecfgCLI) check(args []string, partial bool) error {
	verb := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			return nil
		}
		if strings.HasPrefix(a, "-") {
			name, _, hasValue := strings.Cut(a, "=")
			if !slices.Contains(z.flags, name) && !slices.Contains(z.flags, "-"+strings.TrimLeft(name, "-")) && !slices.Contains(z.flags, "--"+strings.TrimLeft(name, "-")) {
				return fmt.Errorf("zonecfg has no flag %s (its usage: %s)", name, strings.Join(z.flags, " "))
			}
			if !hasValue {
				i++
			}
			continue
		}
		if verb == "" {
			verb = a
			if !slices.Contains(z.verbs, verb) {
				return fmt.Errorf("zonecfg has no command %q (its usage: %s)", verb, strings.Join(z.verbs, ", "))
			}
		}
	}
	if verb == "" && !partial {
		return errors.New("zonecfg without a command")
	}
	return nil
}

// Every provision and zonecfg command in a shell block of README.md and
// docs/*.md is one the CLI takes: a doc cannot show a command, a flag or a
// number of arguments that does not exist. A code span in the prose
// (`provision system reinstall --wait`) names a command and flags that
// exist.
func TestDocsShowRealCommands(t *testing.T) {
	defer parallel(t)()
	z := zonecfgUsage(t)
	seen := 0
	for _, name := range docFiles(t) {
		cmds, err := docCommands(name, readDoc(t, name))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, c := range cmds {
			seen++
			var err error
			switch c.program {
			case "provision":
				err = checkProvision(c.args, c.partial)
			case "zonecfg":
				err = z.check(c.args, c.partial)
			}
			if err != nil {
				t.Errorf("%s\n    %v", c, err)
			}
		}
	}
	if seen < 60 {
		t.Errorf("found %d commands in the docs; the parser lost them", seen)
	}
}

// The checks above fail when they should: a verb, a flag, an argument
// count or a zonecfg flag that does not exist is refused.
func TestDocsCommandCheckRefuses(t *testing.T) {
	defer parallel(t)()
	doc := "```sh\n" +
		"./provision system list --profile web\n" +
		"BMC_PW=x provision system add web001 --mac aa:bb:cc:dd:ee:01 --ip 10.0.0.11 --profile p \\\n    --bmc-password-env BMC_PW   # a comment --nosuch\n" +
		"provision serve --api 192.0.2.10:8443 ...\n" +
		"provision system delete web001\n" +
		"provision system list --nosuch\n" +
		"provision setting set lvs.vrid\n" +
		"provision system\n" +
		"zonecfg --host web001 get lvs.vrid | cat\n" +
		"provision setting get lvs.vrid 2>/dev/null >out\n" +
		"go run ./cmd/zonecfg --nosuch get lvs.vrid\n" +
		"zonecfg fetch lvs.vrid\n" +
		"```\n" +
		"```\nprovision nosuch\n```\n" +
		"Prose: `provision image build`, `provision setting`, `provision system reinstall NAME... [--wait]`, `provision: not a command`,\n" +
		"`provision system nosuch`, `provision system list --nosuch`, `zonecfg get KEY`, `zonecfg --nosuch`.\n"
	cmds, err := docCommands("x.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	z := zonecfgUsage(t)
	var ok []bool
	for _, c := range cmds {
		if c.program == "provision" {
			ok = append(ok, checkProvision(c.args, c.partial) == nil)
		} else {
			ok = append(ok, z.check(c.args, c.partial) == nil)
		}
	}
	want := []bool{true, true, true, false, false, false, false, true, true, false, false, // the shell block
		true, true, true, false, false, true, false} // the prose
	if !slices.Equal(ok, want) {
		t.Errorf("checked %q\ngot  %v\nwant %v", cmds, ok, want)
	}
}

var (
	linkRE       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	inlineCodeRE = regexp.MustCompile("`[^`\n]*`")
)

// prose is a document without its code blocks and code spans, whose
// brackets are not links.
func prose(doc string) []string {
	lines := outsideCodeBlocks(doc)
	for i, line := range lines {
		lines[i] = inlineCodeRE.ReplaceAllString(line, "``")
	}
	return lines
}

// outsideCodeBlocks is a document's lines with those of code blocks
// emptied.
func outsideCodeBlocks(doc string) []string {
	lines := strings.Split(doc, "\n")
	fence := ""
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence, lines[i] = trimmed[:3], ""
			continue
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			lines[i] = ""
		}
	}
	return lines
}

// anchors are the ids GitHub gives a document's headings.
func anchors(doc string) map[string]bool {
	ids := map[string]bool{}
	count := map[string]int{}
	for _, line := range outsideCodeBlocks(doc) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ' || r == '-':
				b.WriteRune('-')
			case r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127 && r != '→' && r != '—':
				b.WriteRune(r)
			}
		}
		id := b.String()
		if n := count[id]; n > 0 {
			ids[fmt.Sprintf("%s-%d", id, n)] = true
		} else {
			ids[id] = true
		}
		count[id]++
	}
	return ids
}

// checkLinks returns the relative links of a document (name, relative to
// the repository at root) that lead nowhere: to a file that does not
// exist, or to an anchor that is no heading of its document.
func checkLinks(root, name string) []string {
	doc, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	for n, line := range prose(string(doc)) {
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := name
			if file != "" {
				path = filepath.Join(filepath.Dir(name), file)
			}
			where := fmt.Sprintf("%s:%d: %s", name, n+1, target)
			if _, err := os.Stat(filepath.Join(root, path)); err != nil {
				bad = append(bad, where+": no such file")
				continue
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(path, ".md") {
				bad = append(bad, where+": an anchor in a file that is not markdown")
				continue
			}
			if text, err := os.ReadFile(filepath.Join(root, path)); err != nil {
				bad = append(bad, where+": "+err.Error())
			} else if !anchors(string(text))[anchor] {
				bad = append(bad, where+": no heading #"+anchor)
			}
		}
	}
	return bad
}

// Every relative link of README.md and docs/*.md leads to a file that
// exists, and to a heading of it when it names one.
func TestDocsLinks(t *testing.T) {
	defer parallel(t)()
	for _, name := range docFiles(t) {
		for _, bad := range checkLinks(docsRoot, name) {
			t.Error(bad)
		}
	}
}

// mapSection is the README's map of docs/: its "## Documentation" section.
func mapSection(readme string) string {
	const heading = "\n## Documentation\n"
	i := strings.Index(readme, heading)
	if i < 0 {
		return ""
	}
	s := readme[i+len(heading):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// Every docs/*.md is on the README's map, one line each.
func TestDocsMap(t *testing.T) {
	defer parallel(t)()
	m := mapSection(readDoc(t, "README.md"))
	if m == "" {
		t.Fatal(`README.md has no "## Documentation" section, the map of docs/`)
	}
	for _, name := range docFiles(t)[1:] {
		if n := strings.Count(m, "]("+filepath.ToSlash(name)+")"); n != 1 {
			t.Errorf("README.md's map of docs/ links %s %d times, want once", name, n)
		}
	}
}

// The link checks fail when they should.
func TestDocsLinkCheckRefuses(t *testing.T) {
	defer parallel(t)()
	root := t.TempDir()
	doc := "# A title\n\n## Its `part` two\n\n" +
		"[ok](README.md) [ok](docs/b.md) [ok](docs/b.md#b) [ok](#a-title) [ok](#its-part-two) [ok](https://example.com/x) `[not a link](nosuch.md)`\n" +
		"[bad](nosuch.md) [bad](#nosuch) [bad](docs/nosuch.md#x) [bad](docs/b.md#nosuch)\n" +
		"```sh\necho [not a link](nosuch.md)\n```\n"
	os.Mkdir(filepath.Join(root, "docs"), 0o755)
	os.WriteFile(filepath.Join(root, "README.md"), []byte(doc), 0o644)
	os.WriteFile(filepath.Join(root, "docs", "b.md"), []byte("# B\n\n[ok](../README.md#a-title) [bad](README.md)\n"), 0o644)
	bad := append(checkLinks(root, "README.md"), checkLinks(root, "docs/b.md")...)
	if len(bad) != 5 {
		t.Errorf("found %d bad links, want 5:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	if mapSection("# x\n\n## Documentation\n\n- [a](docs/a.md)\n\n## Next\n") != "\n- [a](docs/a.md)\n" {
		t.Error("mapSection does not find the map")
	}
}

// archRow is a row of docs/ARCHITECTURE.md's package table.
var archRowRE = regexp.MustCompile("^\\| `([^`]+)` \\|.*\\|([^|]*)\\|$")

// productImports is, for every package of the module, the packages of the
// module its non-test files import, as `go list` says.
func productImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...")
	cmd.Dir = docsRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	prefix := strings.TrimSpace(string(mod)) + "/"
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		var imps []string
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, prefix) {
				imps = append(imps, strings.TrimPrefix(imp, prefix))
			}
		}
		slices.Sort(imps)
		pkgs[strings.TrimPrefix(f[0], prefix)] = imps
	}
	return pkgs
}

func importsCell(imps []string) string {
	if len(imps) == 0 {
		return " "
	}
	return " `" + strings.Join(imps, "`, `") + "` "
}

// docs/ARCHITECTURE.md's package table names every package of the module,
// once, with the module's packages it imports; and the product binaries
// link no testing, as it says. UPDATE_DOCS=1 rewrites the imports column
// (a package missing from the table must be added by hand: what it owns
// and exposes is prose).
func TestDocsArchitecture(t *testing.T) {
	defer parallel(t)()
	const name = "docs/ARCHITECTURE.md"
	pkgs := productImports(t)
	doc := readDoc(t, name)
	lines := strings.Split(doc, "\n")
	seen := map[string]bool{}
	changed := false
	for i, line := range lines {
		m := archRowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pkg := m[1]
		imps, ok := pkgs[pkg]
		switch {
		case seen[pkg]:
			t.Errorf("%s: package %s is in the table twice", name, pkg)
		case !ok:
			t.Errorf("%s: package %s is in the table, not in the code", name, pkg)
		}
		seen[pkg] = true
		if want := importsCell(imps); ok && m[2] != want {
			if os.Getenv("UPDATE_DOCS") == "1" {
				lines[i] = strings.TrimSuffix(line, m[2]+"|") + want + "|"
				changed = true
				continue
			}
			t.Errorf("%s: package %s imports%sin the table, but%sin the code (UPDATE_DOCS=1 go test -run TestDocsArchitecture ./cmd/provision rewrites the column)", name, pkg, m[2], want)
		}
	}
	for pkg := range pkgs {
		if !seen[pkg] {
			t.Errorf("%s: package %s is not in the table", name, pkg)
		}
	}
	if changed {
		if err := os.WriteFile(filepath.Join(docsRoot, name), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "list", "-deps", "./cmd/provision", "./cmd/zonecfg", "./cmd/provision-agent")
	cmd.Dir = docsRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "testing") {
		t.Errorf("%s says the product binaries link no testing, and they do", name)
	}
}

var (
	testNameRE = regexp.MustCompile(`\b(?:Test|Benchmark)[A-Z][A-Za-z0-9_]*`)
	repoPathRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]*(/[A-Za-z0-9_.*-]+)+/?$`)
	placeRE    = regexp.MustCompile(`/[A-Z0-9_]+(/|$)`) // IMAGE, MAC: a placeholder
)

// testFuncs are the tests and benchmarks of the repository.
func testFuncs(t *testing.T) map[string]bool {
	t.Helper()
	funcs := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)[A-Za-z0-9_]*)\(`)
	err := filepath.WalkDir(docsRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != docsRoot || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range funcRE.FindAllStringSubmatch(string(b), -1) {
				funcs[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return funcs
}

// The tests, benchmarks and files of the repository that the docs name
// exist: a test renamed or a package moved leaves no doc pointing at
// nothing. A file is a code span whose first directory is one of the
// repository's (`roles/lvs/overlay`, `cmd/provision/e2e_*_vm_test.go`).
func TestDocsNameRealThings(t *testing.T) {
	defer parallel(t)()
	funcs := testFuncs(t)
	for _, name := range docFiles(t) {
		doc := readDoc(t, name)
		for n, line := range outsideCodeBlocks(doc) {
			for _, fn := range testNameRE.FindAllString(line, -1) {
				if !funcs[fn] {
					t.Errorf("%s:%d: names %s, which no _test.go file has", name, n+1, fn)
				}
			}
			for _, m := range inlineCodeRE.FindAllString(line, -1) {
				path := strings.Trim(m, "`")
				if !repoPathRE.MatchString(path) || placeRE.MatchString(path) {
					continue
				}
				top, _, _ := strings.Cut(path, "/")
				if fi, err := os.Stat(filepath.Join(docsRoot, top)); err != nil || !fi.IsDir() {
					continue
				}
				if found, _ := filepath.Glob(filepath.Join(docsRoot, path)); len(found) == 0 {
					t.Errorf("%s:%d: names %s, which does not exist", name, n+1, path)
				}
			}
		}
	}
}
