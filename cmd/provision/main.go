// Command provision is the appliance: `provision serve` runs the server,
// and every other verb is a client of its REST API.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/cliutil"
)

// usageError marks errors in how the command was called (exit 2).
type usageError = cliutil.UsageError

// usage marks err as an error in how the command was called.
func usage(err error) error { return usageError{Err: err} }

// args wraps a cobra.PositionalArgs so that its error is a usage error.
var args = cliutil.Args

func main() {
	root := newRoot()
	err := root.Execute()
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "provision: %v\n", err)
	if cliutil.IsUsage(err) {
		os.Exit(2)
	}
	os.Exit(1)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "provision",
		Short: "Network boot and provisioning appliance",
		Long: `provision serves DHCP, TFTP/PXE, HTTP images, kickstarts and internal DNS
from one registry of hosts. "provision serve" runs the appliance; the other
verbs talk to its API at --server (or $PROVISION_SERVER) with the token in
$PROVISION_TOKEN.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().String("server", envOr("PROVISION_SERVER", "http://127.0.0.1:8080"), "API URL of the appliance ($PROVISION_SERVER)")
	root.PersistentFlags().String("ca", os.Getenv("PROVISION_CA"), "for an https --server: the certificate file to trust, or the fingerprint sha256:HEX that provision serve printed ($PROVISION_CA)")
	root.PersistentFlags().BoolP("quiet", "q", false, "print nothing on success but what was asked for")
	root.PersistentFlags().Duration("answer-timeout", api.AnswerTimeout, "give up on a server that has not started to answer after this long")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usage(err) })
	root.AddCommand(newServe(), newDemo(), newBootenv(), newSubnet(), newImage(), newProfile(), newSystem(),
		newSetting(), newZone(), newExport(), newImport(), newHistory(), newTemplate(), newEvents(), newPower(), newToken(), newVersion(), newLogin(), newMigrate(), newBackup(), newRestore(), newDocs(),
		newDiscovered(), newRule(), newConsole())
	root.AddCommand(newAnsibleInventory())
	root.AddCommand(newHook())
	root.AddCommand(newUser())
	cliutil.WireGroups(root)
	completion.Wire(root)
	cliutil.WireExamples(root, examples)
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
