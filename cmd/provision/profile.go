package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newProfile() *cobra.Command {
	c := &cobra.Command{Use: "profile", Short: "Manage profiles (roles: image, kernel arguments, kickstart, settings)"}
	add := &cobra.Command{
		Use:   "add NAME --image NAME [--kernel-args \"...\"] [--kickstart TEMPLATE] [--install-timeout 60m] [--disk SEL[,SEL]] [--raid1] [--swap SIZE] [--root-size SIZE] [--set KEY=VALUE]... [--set-secret KEY=VALUE]...",
		Short: "Add a profile",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			p := api.ProfileInput{Profile: registry.Profile{Name: a[0]}}
			if err := profileFlags(c, &p); err != nil {
				return err
			}
			if err := client(c).Do(ctx(c), "POST", api.Path("profiles")+publicQuery(c), p, nil); err != nil {
				return err
			}
			confirm(c, "profile %s added (image %s)", p.Name, p.Image)
			return nil
		},
	}
	edit := &cobra.Command{
		Use:   "edit NAME [--image NAME] [--kernel-args \"...\"] [--kickstart NAME] [--disk SEL[,SEL]] [--raid1] [--swap SIZE] [--root-size SIZE] [--set KEY=VALUE]... [--set-secret KEY=VALUE]... [--unset KEY]...",
		Short: "Change a profile; only the flags given change, and only those fields are sent",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var p api.ProfileInput
			changed, err := client(c).Edit(ctx(c), api.Path("profiles", a[0]), publicQuery(c), &p, func() error { return profileFlags(c, &p) })
			return edited(c, "profile "+a[0], changed, err)
		},
	}
	for _, sub := range []*cobra.Command{add, edit} {
		f := sub.Flags()
		f.String("image", "", "image to boot (required for add)")
		f.String("kernel-args", "", "kernel command line arguments")
		f.String("kickstart", "", "install template (provision template list); \"\" for none")
		f.String("install-timeout", "", "deadline of a build from its start, e.g. 90m (default 60m)")
		f.String("on-failure", "", "what a failed build does to a machine with a BMC: off (default: power it off) or keep")
		f.String("loader", "", "network boot loader handed out by DHCP: ipxe (default), pxelinux (lpxelinux.0 to BIOS, syslinux.efi to UEFI PXE; none to UEFI HTTP boot) or grub (Debian's signed grubx64.efi to UEFI; iPXE to BIOS)")
		f.Bool("secure-boot", false, "with --loader grub: start UEFI machines at shimx64.efi (signed by Microsoft), which loads the signed GRUB, which boots the signed kernel")
		storageFlags(sub)
		f.StringArray("set", nil, "setting KEY=VALUE (repeatable; published in DNS and data.cdb)")
		secretSetFlag(sub)
		publicFlag(sub)
	}
	edit.Flags().StringArray("unset", nil, "remove setting KEY, ordinary or secret (repeatable)")
	add.MarkFlagRequired("image")
	c.AddCommand(add, edit)
	kindCmds(c, "profile", "profiles", func(w io.Writer, items []json.RawMessage, wide bool) {
		if wide {
			row(w, "NAME", "IMAGE", "KICKSTART", "KERNEL-ARGS", "LOADER", "INSTALL-TIMEOUT", "ON-FAILURE", "SETTINGS")
		} else {
			row(w, "NAME", "IMAGE", "KICKSTART", "KERNEL-ARGS")
		}
		for _, raw := range items {
			var p registry.Profile
			json.Unmarshal(raw, &p)
			if wide {
				row(w, p.Name, p.Image, or(p.Kickstart, "-"), or(p.KernelArgs, "-"), loaderName(p), or(p.InstallTimeout, "-"), or(p.OnFailure, "off"), fmt.Sprint(len(p.Settings)))
				continue
			}
			row(w, p.Name, p.Image, or(p.Kickstart, "-"), or(p.KernelArgs, "-"))
		}
	})
	return c
}

// profileFlags applies the flags that were given to p.
func profileFlags(c *cobra.Command, p *api.ProfileInput) error {
	f := c.Flags()
	for flag, dst := range map[string]*string{"image": &p.Image, "kernel-args": &p.KernelArgs, "kickstart": &p.Kickstart, "loader": &p.Loader, "install-timeout": &p.InstallTimeout, "on-failure": &p.OnFailure} {
		if f.Changed(flag) {
			*dst, _ = f.GetString(flag)
		}
	}
	if f.Changed("secure-boot") {
		p.SecureBoot, _ = f.GetBool("secure-boot")
	}
	if err := applyStorage(c, &p.Profile); err != nil {
		return err
	}
	var err error
	if p.Settings, err = applySets(c, "profile "+p.Name, p.Settings, p.SecretSettings); err != nil {
		return err
	}
	p.SecretValues, err = applySecretSets(c, "profile "+p.Name, p.Settings, p.SecretValues)
	return err
}

// applySets merges --set and removes --unset keys, from the ordinary
// settings m or the secret ones.
func applySets(c *cobra.Command, what string, m map[string]string, secrets registry.SecretSettings) (map[string]string, error) {
	sets, _ := c.Flags().GetStringArray("set")
	add, err := parseSets(sets)
	if err != nil {
		return nil, err
	}
	if m == nil && len(add) > 0 {
		m = map[string]string{}
	}
	for k, v := range add {
		m[k] = v
	}
	if c.Flags().Lookup("unset") != nil {
		unset, _ := c.Flags().GetStringArray("unset")
		for _, k := range unset {
			_, plain := m[k]
			_, secret := secrets[k]
			if !plain && !secret {
				return nil, fmt.Errorf("%s has no setting %s to unset", what, k)
			}
			delete(m, k)
			delete(secrets, k)
		}
	}
	return m, nil
}

// loaderName is a profile's loader as listed: grub+secureboot for Secure Boot.
func loaderName(p registry.Profile) string {
	if p.SecureBoot {
		return or(p.Loader, "ipxe") + "+secureboot"
	}
	return or(p.Loader, "ipxe")
}
