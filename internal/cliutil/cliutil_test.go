package cliutil

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A usage error, and cobra's own errors about the command line, exit 2;
// anything else does not, even when it wraps a usage error's text.
func TestIsUsage(t *testing.T) {
	for err, want := range map[error]bool{
		UsageError{Err: errors.New("--x: bad")}:                          true,
		fmt.Errorf("system web01: %w", UsageError{Err: errors.New("x")}): true,
		errors.New(`required flag(s) "to" not set`):                      true,
		errors.New(`unknown flag: --nope`):                               true,
		errors.New("system web01 not found"):                             false,
	} {
		if got := IsUsage(err); got != want {
			t.Errorf("IsUsage(%q) = %v, want %v", err, got, want)
		}
	}
}

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool"}
	group := &cobra.Command{Use: "system", Short: "systems"}
	for _, use := range []string{"list", "remove NAME", "show NAME"} {
		group.AddCommand(&cobra.Command{Use: use, RunE: func(*cobra.Command, []string) error { return nil }})
	}
	edit := &cobra.Command{Use: "edit NAME", RunE: func(*cobra.Command, []string) error { return nil }}
	edit.Flags().String("profile", "", "")
	group.AddCommand(edit)
	root.AddCommand(group)
	return root
}

// A group refuses an unknown subcommand as a usage error naming the one
// meant; rm suggests remove.
func TestWireGroups(t *testing.T) {
	root := tree()
	WireGroups(root)
	root.SetArgs([]string{"system", "shwo"})
	root.SetOut(new(bytes.Buffer))
	root.SetErr(new(bytes.Buffer))
	err := root.Execute()
	if !IsUsage(err) || !strings.Contains(err.Error(), `Did you mean "tool system show"?`) {
		t.Errorf("system shwo: %v", err)
	}
	root.SetArgs([]string{"system", "rm"})
	if err := root.Execute(); !IsUsage(err) || !strings.Contains(err.Error(), `Did you mean "tool system remove"?`) {
		t.Errorf("system rm: %v", err)
	}
}

// NAME arguments and object flags complete from Names, by prefix, the
// first argument only.
func TestCompletion(t *testing.T) {
	root := tree()
	Completion{
		Groups: map[string]string{"system": "systems"},
		Flags:  map[string]string{"profile": "profiles"},
		Names: func(_ *cobra.Command, kind string) ([]string, error) {
			return map[string][]string{"systems": {"web01", "web02", "db01"}, "profiles": {"web", "db"}}[kind], nil
		},
	}.Wire(root)
	show, _, _ := root.Find([]string{"system", "show"})
	got, _ := show.ValidArgsFunction(show, nil, "we")
	if !slices.Equal(got, []string{"web01", "web02"}) {
		t.Errorf("system show we<TAB>: %q", got)
	}
	if got, _ := show.ValidArgsFunction(show, []string{"web01"}, ""); len(got) != 0 {
		t.Errorf("a second argument completes %q", got)
	}
	edit, _, _ := root.Find([]string{"system", "edit"})
	f, ok := edit.GetFlagCompletionFunc("profile")
	if !ok {
		t.Fatal("--profile has no completion")
	}
	if got, _ := f(edit, nil, "d"); !slices.Equal(got, []string{"db"}) {
		t.Errorf("--profile d<TAB>: %q", got)
	}
	list, _, _ := root.Find([]string{"system", "list"})
	if list.ValidArgsFunction != nil {
		t.Error("list, which takes no NAME, completes names")
	}
}
