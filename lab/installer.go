package lab

import "github.com/provision/provision/bootenv"

// Marker lines that the installer initramfs's /init prints on the serial
// console, in this order (see the package documentation). Some are
// prefixes of others: match DoneMarker + " status=".
const (
	InstallerMarker      = "PROVISION-LAB-INSTALLER"       // followed by " url=URL mode=MODE"
	FetchedMarker        = "PROVISION-LAB-FETCHED"         // followed by " bytes=N"
	FetchFailedMarker    = "PROVISION-LAB-FETCH-FAILED"    // followed by " status=S"
	DiskMarker           = "PROVISION-LAB-DISK"            // followed by " host=NAME bytes=N"; also on the disk
	DoneMarker           = "PROVISION-LAB-DONE"            // followed by " status=S"
	FailedReportedMarker = "PROVISION-LAB-FAILED-REPORTED" // followed by " status=S"
	HangingMarker        = "PROVISION-LAB-HANGING"         // hang mode: polling starts
	DoneRefusedMarker    = "PROVISION-LAB-DONE-REFUSED"    // followed by " status=S"
	RebootMarker         = "PROVISION-LAB-REBOOT"          // the last line before reboot -f
	ShellMarker          = "PROVISION-LAB-SHELL"           // provision.labshell=1: the shell starts instead of the reboot
	ErrorMarker          = "PROVISION-LAB-ERROR"           // followed by what failed
)

// FailedOnPurpose is the error line fail mode prints before it reports,
// as a real installer's last words on its console would say why.
const FailedOnPurpose = ErrorMarker + " installer failed on purpose: no disk matches /dev/sdz"

// LabShellArg on the installer's kernel command line ends it in an
// interactive shell on the console (busybox sh, the console its
// controlling terminal) instead of the reboot: an operator attached
// through SOL types into it.
const LabShellArg = "provision.labshell=1"

// Values of provision.labmode= on the installer's kernel command line.
const (
	ModeOK   = "ok"   // call URL/done (the default)
	ModeFail = "fail" // POST a log to URL/failed
	ModeHang = "hang" // poll URL every 2 s (at most 90 times) until it stops answering 200, then try URL/done
)

// installerScript is the installer's /init; %s is the list of module files
// in load order. Statuses S are HTTP status codes, or "none" when no
// server answered. wget is busybox's: -S prints the status line, which
// the script keeps, and an empty --post-data makes a POST with no body.
const installerScript = initPrelude + `set -f
host= url= mode= labshell=
for w in $(cat /proc/cmdline); do
	case "$w" in
	provision.host=*) host="${w#provision.host=}" ;;
	provision.ks=*) url="${w#provision.ks=}" ;;
	provision.labmode=*) mode="${w#provision.labmode=}" ;;
	provision.labshell=*) labshell="${w#provision.labshell=}" ;;
	esac
done
set +f
mode=${mode:-ok}
say "PROVISION-LAB-BOOTED host=$host"
say "PROVISION-LAB-INSTALLER url=$url mode=$mode"

# request URL [wget option...]: the body goes to /tmp/body, the HTTP status
# of the last response to $status.
request() {
	u=$1
	shift
	rm -f /tmp/body
	timeout 30 wget -S -q -O /tmp/body "$@" "$u" 2>/tmp/wget.err
	rc=$?
	status=$(sed -n 's|^ *HTTP/[0-9.]* \([0-9][0-9]*\).*|\1|p' /tmp/wget.err | tail -n 1)
	status=${status:-none}
	return $rc
}

# finish: reboot, or with provision.labshell=1 an interactive shell on the
# console for an operator attached through SOL (cttyhack makes the
# console's real tty, ttyS0, the shell's controlling terminal); a shell
# that exits is started again, as init must not end.
finish() {
	sync
	if [ "$labshell" = 1 ]; then
		say "PROVISION-LAB-SHELL"
		while :; do
			setsid cttyhack sh -i
		done
	fi
	say "PROVISION-LAB-REBOOT"
	reboot -f
}

# report_failure REASON: POST the end of the kernel log and REASON.
report_failure() {
	{ dmesg | tail -n 50; echo "$1"; } >/tmp/failed.log
	request "$url/failed" --post-file /tmp/failed.log
	say "PROVISION-LAB-FAILED-REPORTED status=$status"
}

# write_disk: the boot sector at 0, the label in the sector before 1 MiB,
# the template at 1 MiB.
write_disk() {
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	dd if=/lib/mbr.bin of=/dev/vda bs=512 count=1 conv=notrunc,fsync status=none &&
		echo "PROVISION-LAB-DISK host=$host bytes=$bytes" |
		dd of=/dev/vda bs=512 seek=2047 count=1 conv=notrunc,sync,fsync status=none &&
		dd if=/tmp/ks of=/dev/vda bs=4096 seek=256 conv=notrunc,fsync status=none &&
		sync
}

ip link set lo up
if ip link set eth0 up; then
	udhcpc -i eth0 -f -q -n -t 5 -T 1 -s /etc/udhcpc.script || say "PROVISION-LAB-DHCP failed"
else
	say "PROVISION-LAB-DHCP failed"
fi
if [ -z "$url" ]; then
	say "PROVISION-LAB-FETCH-FAILED status=none (no provision.ks=)"
	finish
fi
if request "$url" && [ "$status" = 200 ]; then
	mv /tmp/body /tmp/ks
else
	say "PROVISION-LAB-FETCH-FAILED status=$status"
	finish
fi
bytes=$(wc -c </tmp/ks)
say "PROVISION-LAB-FETCHED bytes=$bytes"
if ! write_disk; then
	say "PROVISION-LAB-ERROR cannot write /dev/vda"
	report_failure "lab installer: cannot write /dev/vda"
	finish
fi
say "PROVISION-LAB-DISK host=$host bytes=$bytes"
case "$mode" in
ok)
	request "$url/done" --post-data ''
	say "PROVISION-LAB-DONE status=$status"
	;;
fail)
	say "PROVISION-LAB-ERROR installer failed on purpose: no disk matches /dev/sdz"
	report_failure "lab installer failed on purpose"
	;;
hang)
	say "PROVISION-LAB-HANGING"
	i=0
	while [ $i -lt 90 ] && request "$url" && [ "$status" = 200 ]; do
		sleep 2
		i=$((i + 1))
	done
	request "$url/done" --post-data ''
	case "$status" in
	2??) say "PROVISION-LAB-DONE status=$status" ;;
	*) say "PROVISION-LAB-DONE-REFUSED status=$status" ;;
	esac
	;;
*)
	say "PROVISION-LAB-ERROR unknown provision.labmode=$mode"
	report_failure "lab installer: unknown provision.labmode=$mode"
	;;
esac
finish
`

// buildInstallerInitramfs is buildInitramfs with the installer's /init and
// the boot sector it writes, /lib/mbr.bin.
func buildInstallerInitramfs(busybox []byte, modules []bootenv.Module) ([]byte, error) {
	return buildImage(busybox, modules, installerScript, map[string][]byte{"mbr.bin": BootSector()})
}
