package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provision/provision/cobbler"
	"github.com/provision/provision/internal/human"
)

// importCobbler is `import --from cobbler DIR`: plan against the
// registry's export, check the plan on the appliance (a dry run), upload
// the images' files, then import the plan in one all-or-nothing write.
func importCobbler(c *cobra.Command, dir string) error {
	f := c.Flags()
	if from, _ := f.GetString("from"); from != "cobbler" {
		return usage(fmt.Errorf("--from %q: only cobbler is known", from))
	}
	dry, _ := f.GetBool("dry-run")
	skip, _ := f.GetBool("skip-conflicts")
	root, _ := f.GetString("root")
	coll, err := cobbler.Read(dir)
	if err != nil {
		return err
	}
	existing, err := client(c).Export(ctx(c))
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
		return plan.ConflictsError("nothing was written")
	}
	doc, err := plan.YAML()
	if err != nil {
		return err
	}
	rep, err := client(c).Import(ctx(c), doc, true) // the appliance's own checks, before any upload
	if err != nil {
		return err
	}
	if dry {
		if blocked {
			fmt.Fprint(out, "with --skip-conflicts, ")
		}
		printImport(out, true, rep, false)
		if blocked {
			return plan.ConflictsError("the import would write nothing")
		}
		return nil
	}
	if err := uploadPlan(c, plan); err != nil {
		return err
	}
	if rep, err = client(c).Import(ctx(c), doc, false); err != nil {
		return err
	}
	printImport(out, false, rep, false)
	if len(plan.Skipped) > 0 {
		fmt.Fprintf(out, "left out: %d objects (listed above)\n", len(plan.Skipped))
	}
	if n := len(plan.WithoutFiles); n > 0 {
		images := fmt.Sprintf("%d images", n)
		if n == 1 {
			images = "1 image"
		}
		fmt.Fprintf(out, "registered without files: %s (listed above): their systems boot once `provision image edit` uploads their kernel and initrd\n", images)
	}
	return nil
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
		fmt.Fprintf(c.OutOrStdout(), "uploaded %d files (%s)\n", len(plan.Uploads), human.Size(size))
	}
	return nil
}
