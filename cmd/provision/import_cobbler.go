package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/api"
	"github.com/provision/provision/cobbler"
	"github.com/provision/provision/registry"
)

// importCobbler is `import --from cobbler DIR`: plan against the
// registry's export, check the plan on the appliance (a dry run), upload
// the images' files, then import the plan in one all-or-nothing write.
func importCobbler(c *cobra.Command, dir string) error {
	f := c.Flags()
	if from, _ := f.GetString("from"); from != "cobbler" {
		return usageError{fmt.Errorf("--from %q: only cobbler is known", from)}
	}
	dry, _ := f.GetBool("dry-run")
	skip, _ := f.GetBool("skip-conflicts")
	root, _ := f.GetString("root")
	coll, err := cobbler.Read(dir)
	if err != nil {
		return err
	}
	existing, err := registryDocument(c)
	if err != nil {
		return err
	}
	plan, err := cobbler.Plan(coll, existing, cobbler.Options{Root: root})
	if err != nil {
		return err
	}
	out := c.OutOrStdout()
	fmt.Fprintf(out, "cobbler %s: %d distros, %d profiles, %d systems\n", dir, len(coll.Distros), len(coll.Profiles), len(coll.Systems))
	plan.Write(out, dry)
	blocked := len(plan.Conflicts) > 0 && !skip
	if blocked && !dry {
		return conflictsError(plan, "nothing was written")
	}
	doc, err := plan.YAML()
	if err != nil {
		return err
	}
	rep, err := postImport(c, doc, true) // the appliance's own checks, before any upload
	if err != nil {
		return err
	}
	if dry {
		if blocked {
			fmt.Fprint(out, "with --skip-conflicts, ")
		}
		printImport(out, true, rep, false)
		if blocked {
			return conflictsError(plan, "the import would write nothing")
		}
		return nil
	}
	if err := uploadPlan(c, plan); err != nil {
		return err
	}
	if rep, err = postImport(c, doc, false); err != nil {
		return err
	}
	printImport(out, false, rep, false)
	if len(plan.Skipped) > 0 {
		fmt.Fprintf(out, "left out: %d objects (listed above)\n", len(plan.Skipped))
	}
	return nil
}

// registryDocument reads the registry's export (without secrets).
func registryDocument(c *cobra.Command) (*registry.Document, error) {
	var buf bytes.Buffer
	if err := client(c).Raw(ctx(c), "GET", api.Path("export"), "", nil, -1, &buf); err != nil {
		return nil, err
	}
	var d registry.Document
	if err := yaml.Unmarshal(buf.Bytes(), &d); err != nil {
		return nil, fmt.Errorf("the registry's export: %w", err)
	}
	return &d, nil
}

// uploadPlan puts the new images' files in the appliance's store.
func uploadPlan(c *cobra.Command, plan *cobbler.ImportPlan) error {
	var size int64
	for _, u := range plan.Uploads {
		ref, err := upload(c, u.Role, u.Path)
		if err != nil {
			return fmt.Errorf("image %s: %w", u.Image, err)
		}
		if ref.SHA256 != u.SHA256 {
			return fmt.Errorf("image %s: %s %s changed while it was imported (sha256 %s, then %s): nothing was imported", u.Image, u.Role, u.Path, u.SHA256, ref.SHA256)
		}
		size += u.Size
	}
	if len(plan.Uploads) > 0 {
		fmt.Fprintf(c.OutOrStdout(), "uploaded %d files (%s)\n", len(plan.Uploads), humanSize(size))
	}
	return nil
}

// conflictsError lists every conflict of the plan, one a line.
func conflictsError(plan *cobbler.ImportPlan, what string) error {
	msgs := make([]string, len(plan.Conflicts))
	for i, x := range plan.Conflicts {
		msgs[i] = x.Msg
	}
	n := fmt.Sprintf("%d conflicts", len(msgs))
	if len(msgs) == 1 {
		n = "1 conflict"
	}
	return fmt.Errorf("%s, %s (--skip-conflicts imports the rest):\n  %s", n, what, strings.Join(msgs, "\n  "))
}
