package roles

// keygenUnit makes the SSH host keys a disk image leaves out, at the
// first boot of each deployed machine, before sshd starts: no two
// machines share keys.
const keygenUnit = `[Unit]
Description=provision: this machine's own SSH host keys
Before=ssh.service ssh.socket
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
`

// diskHooks are the customize hooks of a disk image's root, after the
// diskless ones: the deployer writes the machine's own network files,
// hostname, fstab and authorized_keys into it.
func diskHooks() []string {
	return []string{
		"--customize-hook=" + writeFileHook("/etc/systemd/system/provision-ssh-keygen.service", keygenUnit),
		"--customize-hook=rm -f \"$1\"/etc/ssh/ssh_host_*",
		`--customize-hook=chroot "$1" systemctl enable systemd-networkd.service ssh.service provision-ssh-keygen.service`,
		// SSH keys only: the deployer writes root's authorized_keys.
		`--customize-hook=chroot "$1" passwd -l root`,
	}
}
