// Package cliutil is the cobra plumbing a command-line program needs whatever
// its verbs: usage errors (exit 2) told from failures, command groups that
// refuse an unknown subcommand with a suggestion, examples given from one
// table, shell completion of object names, and manual pages made from the
// --help texts. It imports no product package.
package cliutil
