package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// diskImageOnce builds the Debian disk image the deploy tests share, once
// per test binary: image build --kind disk (mmdebstrap: a kernel, GRUB
// for BIOS and UEFI, systemd-networkd, openssh-server, the boot hooks)
// with the LVS role's overlay, and of its kernel's modules only those of
// the lab's VMs (labModules): 291 MiB unpacked of 645 with every module,
// an initramfs of 9 MiB of 30; every deploy downloads and unpacks it,
// every boot loads it, under TCG. PROVISION_TEST_DISK_IMAGE names one built
// before (by the same command), to spare a developer the build.
var diskImageOnce = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("PROVISION_TEST_DISK_IMAGE"); p != "" {
		return p, nil
	}
	suite, err := osCodename()
	if err != nil {
		return "", err
	}
	out := filepath.Join(e2eDir, "debdisk.tar.zst")
	leftOut, kept := labModules()
	build := exec.Command(cli, "image", "build", "debdisk", "--kind", "disk", "--debian", suite,
		"--overlay", "../../roles/lvs/overlay", "--exclude", strings.Join(leftOut, ","), "--keep", strings.Join(kept, ","),
		"--output", out, "--no-add")
	build.Env = startEnv
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("image build --kind disk: %v\n%s", err, b)
	}
	return out, nil
})

// labModules are the disk image's kernel module trees left out, and what
// of them it keeps: the lab's VMs have virtio disks and NICs, e1000 NICs,
// an i440FX or Q35 chipset (ATA), and the deploy tests' systems use
// bonding, 8021q, md RAID1, ext4, vfat (the ESP) and IPVS with
// netfilter. dpkg matches the paths a package ships: /lib/modules in
// bookworm's kernel package, and /usr/lib/modules for a suite whose
// package ships that.
func labModules() (leftOut, kept []string) {
	both := func(paths ...string) (out []string) {
		for _, p := range paths {
			out = append(out, "/lib/modules/*/kernel/"+p, "/usr/lib/modules/*/kernel/"+p)
		}
		return out
	}
	leftOut = both("drivers/*", "fs/*", "net/*", "sound/*", "arch/x86/kvm/*")
	kept = both("drivers/virtio/*", "drivers/block/*", "drivers/md/*", "drivers/ata/*", "drivers/char/*", "drivers/acpi/*",
		"drivers/firmware/*", "drivers/input/serio/*", "drivers/net/virtio_net.ko", "drivers/net/net_failover.ko", "drivers/net/mii.ko",
		"drivers/net/bonding/*", "drivers/net/ethernet/intel/e1000/*", "drivers/scsi/scsi_mod.ko", "drivers/scsi/scsi_common.ko",
		"drivers/scsi/sd_mod.ko", "drivers/scsi/virtio_scsi.ko",
		"fs/ext4/*", "fs/jbd2/*", "fs/mbcache.ko", "fs/fat/*", "fs/nls/*", "fs/efivarfs/*", "fs/autofs/*", "fs/configfs/*", "fs/fuse/*",
		"net/core/*", "net/8021q/*", "net/802/*", "net/llc/*", "net/tls/*", "net/netfilter/*", "net/ipv4/*", "net/ipv6/*", "net/packet/*", "net/unix/*")
	return leftOut, kept
}

// e2eDir is the test binary's temporary directory (TestMain's).
var e2eDir string

// wantsBuild reports whether this run will run test (a VM test that
// needs an image mmdebstrap builds): as root, with mmdebstrap, not
// -short, and a -run that takes it. TestMain then starts its build at
// once.
func wantsBuild(test string) bool {
	if !flag.Parsed() {
		flag.Parse() // from TestMain: m.Run parses them otherwise
	}
	if os.Geteuid() != 0 || testing.Short() {
		return false
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return false
	}
	run := flag.Lookup("test.run").Value.String()
	if run == "" {
		return true
	}
	re, err := regexp.Compile(strings.SplitN(run, "/", 2)[0])
	return err == nil && re.MatchString(test)
}

// osCodename is this machine's Debian codename.
func osCodename() (string, error) {
	b, err := os.ReadFile("/etc/os-release")
	if err == nil {
		if m := regexp.MustCompile(`(?m)^VERSION_CODENAME=(\S+)`).FindSubmatch(b); m != nil {
			return string(m[1]), nil
		}
	}
	return "", fmt.Errorf("not Debian: no VERSION_CODENAME in /etc/os-release")
}

// deployLab is an appliance in a lab network with the shared Debian disk
// image as image "debdisk", profile "deploy" (console on the serial
// port), an SSH key in the setting ssh.authorized-keys, the LVS role's
// settings, and subnet "vlan100" (10.100.0.0/24) for VLAN addresses. (The
// machines that run the tests have no 8021q module: the VLAN is seen from
// inside the guest, whose kernel has one.)
func deployLab(t *testing.T) (n *lab.Net, cli func(...string) string, key, tok string) {
	testenv.NeedCommand(t, "mmdebstrap")
	testenv.NeedCommand(t, "ssh")
	testenv.NeedCommand(t, "ssh-keygen")
	deb := lab.KernelPackage(t)
	start := time.Now()
	rootfs, err := diskImageOnce()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("disk image: %.1fs", time.Since(start).Seconds())
	n, tok, _ = labAppliance(t)
	cli = labCLI(t, n, tok)
	key = filepath.Join(t.TempDir(), "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy-test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("subnet", "add", "vlan100", "--cidr", "10.100.0.0/24")
	cli("image", "add", "debdisk", "--kind", "disk", "--kernel-package", deb, "--rootfs", rootfs)
	var img registry.Image
	json.Unmarshal([]byte(cli("image", "show", "debdisk", "--json")), &img)
	t.Logf("disk image: rootfs %.1f MiB, unpacked %.1f MiB; %s", float64(img.Files["rootfs"].Size)/(1<<20), float64(img.Unpacked)/(1<<20), img.Bootenv)
	cli("setting", "set", "ssh.authorized-keys", strings.TrimSpace(string(pub)))
	cli("setting", "set", "net.private", "192.168.0.0/20")
	cli("profile", "add", "deploy", "--image", "debdisk", "--set", "role=lvs", "--kernel-args", "console=ttyS0 panic=10")
	return n, cli, key, tok
}

// sshRun runs a command on ip as root with key, from the appliance's
// namespace.
func sshRun(n *lab.Net, key, ip string, args ...string) (string, error) {
	cmd := n.Command(append([]string{"ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "root@" + ip}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A SeaBIOS VM and an OVMF VM, each with a virtio disk and two NICs,
// deploy the same Debian disk image: GPT, the image unpacked onto ext4,
// the image's GRUB for the firmware, the machine's files. Each reboots
// into Debian from its disk, where bond0 (active-backup over both NICs)
// carries the system's address and bond0.100 its VLAN address; the hook
// read lvs.vrid offline at boot, then over DNS; the test logs in over
// SSH with the key of ssh.authorized-keys and sees the bond and the VLAN
// with ip -d link; pulling the first NIC's link keeps the address
// reachable; and a second power-on of the UEFI VM boots the disk, not the deployer.
//
// In the same lab, as more VMs: a RAID1 root over two disks boots without
// its first and is reinstalled (deployRAID1), and deploys that cannot go on fail naming why
// (deployFails), and an unknown machine registers itself and deploys
// (discoveryInDeployLab). One lab for them all: adding the image to a lab takes
// minutes under load (its boot environment is built, its rootfs read).
func TestVMDeploy(t *testing.T) {
	defer parallelAfter(t, func() { diskImageOnce() })()
	setup := time.Now()
	n, cli, key, tok := deployLab(t)
	rootfs, _ := diskImageOnce()
	image, err := os.ReadFile(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	faults := faultServer(t, n, image)
	image = nil
	// An operator's webhook receiver, in the lab: the BIOS machine's
	// events must reach it in order, its booted report included.
	hooks, secret := newHookReceiverOn(t, n.Listen(t, "tcp", "127.0.0.1:0"))
	cli("hook", "add", "deploys", "--url", hooks.srv.URL, "--events", "system.added,build.started,build.installed,booted",
		"--system-filter", "disk-bios", "--secret-file", secret)
	for i, fw := range []string{"bios", "uefi"} {
		name := "disk-" + fw
		mac1, mac2 := fmt.Sprintf("52:54:00:d3:00:%02x", 2*i+1), fmt.Sprintf("52:54:00:d3:00:%02x", 2*i+2)
		ip := n.Addr(byte(90 + i)).String()
		args := []string{"system", "add", name, "--mac", mac1, "--ip", ip, "--profile", "deploy", "--set", "lvs.vrid=100"}
		if fw == "bios" { // its download is cut once, and resumed
			args = append(args, "--kernel-args", "provision.rootfs.url="+faults+"/cut/rootfs")
		}
		cli(args...)
		cli("system", "interface", "add", name, "eth1", "--mac", mac2)
		cli("system", "interface", "add", name, "bond0", "--bond-mode", "active-backup", "--members", "eth0,eth1", "--primary")
		cli("system", "interface", "add", name, "bond0.100", "--vlan-parent", "bond0", "--vlan-id", "100", "--ip", fmt.Sprintf("10.100.0.%d", 90+i))
	}
	t.Logf("interfaces:\n%s", cli("system", "interface", "list", "disk-bios"))
	cli("profile", "add", "raid", "--image", "debdisk", "--raid1", "--swap", "256M", "--set", "role=lvs", "--kernel-args", "console=ttyS0 panic=10")
	cli("system", "add", "disk-raid", "--mac", raidMAC, "--ip", n.Addr(95).String(), "--profile", "raid", "--set", "lvs.vrid=100")
	cli("profile", "add", "nodisk", "--image", "debdisk", "--disk", "serial:NOSUCHDISK", "--kernel-args", "console=ttyS0 panic=10")
	failures := []deployFailure{
		{"small", "deploy", "", 1024, `provision: deploy failed: layout: disk vda is 1024 MiB, the layout needs [0-9]+ MiB \(bios boot 1, ESP 512, swap 0, root [0-9]+ for image debdisk\)`},
		{"nodisk", "nodisk", "", 4096, `provision: deploy failed: layout: no disk is serial:NOSUCHDISK; this machine has: vda 4096 MiB serial -`},
		{"badsum", "deploy", "provision.rootfs.url=" + faults + "/bad/rootfs", 4096, `provision: deploy failed: rootfs: sha256 mismatch 3 times`},
	}
	for i, f := range failures {
		args := []string{"system", "add", "fail-" + f.name, "--mac", f.mac(i), "--ip", n.Addr(byte(100 + i)).String(), "--profile", f.profile}
		if f.args != "" {
			args = append(args, "--kernel-args", f.args)
		}
		cli(args...)
	}
	t.Logf("lab set up in %.1fs", time.Since(setup).Seconds())
	t.Run("raid1", func(t *testing.T) { defer parallel(t)(); deployRAID1(t, n, cli, key) })
	t.Run("discovery", func(t *testing.T) { defer parallel(t)(); discoveryInDeployLab(t, n, tok) })
	for i, f := range failures {
		t.Run("fail-"+f.name, func(t *testing.T) { defer parallel(t)(); deployFails(t, n, cli, tok, f, i) })
	}
	for i, fw := range []string{"bios", "uefi"} {
		t.Run(fw, func(t *testing.T) {
			defer parallel(t)()
			name := "disk-" + fw
			mac1, mac2 := fmt.Sprintf("52:54:00:d3:00:%02x", 2*i+1), fmt.Sprintf("52:54:00:d3:00:%02x", 2*i+2)
			ip, vlanIP := n.Addr(byte(90+i)).String(), fmt.Sprintf("10.100.0.%d", 90+i)
			opts := lab.VMOptions{Disk: lab.NewDisk(t, 4096), NICs: []string{mac2}, Reboot: true, MemoryMiB: 1024, Monitor: true}
			if fw == "uefi" {
				opts.UEFI, opts.UEFIVars, opts.NoIPv6 = true, lab.NewUEFIVars(t), true
			}
			vm := lab.BootVMWith(t, n, mac1, 20*time.Minute, opts)
			stages := []vmStage{
				{"deployer", `provision: deploying image debdisk`},
				{"layout", `provision: layout on vda 4096 MiB: GPT`},
			}
			if fw == "bios" {
				stages = append(stages, vmStage{"download cut", `fetch of .*/cut/rootfs stopped at [0-9]+ bytes`})
			}
			waitVM(t, vm, 15*time.Minute, append(stages, []vmStage{
				{"rootfs fetched", `provision: rootfs fetched`},
				{"deployed", `provision: deployed: disk vda 4096 MiB`},
				{"systemd from the disk", `Welcome to Debian`},
				{"own lvs.vrid offline", `keepalived.conf: +virtual_router_id 100`},
				{"lvs.vrid over DNS", `lvs.vrid over DNS: 100`},
				{"booted", `provision: booted: ` + name},
			}...))
			t.Logf("power-on to booted: %.1fs", time.Since(vm.Started).Seconds())
			kinds := waitTimeline(t, cli, name, []string{"template", "disk", "partitioned", "rootfs fetched", "unpacked", "bootloader", "done", "hooks", "booted"})
			t.Logf("timeline: %v", kinds)
			status := cli("system", "status", name)
			t.Logf("status:\n%s", status)
			var evs []registry.Event
			json.Unmarshal([]byte(cli("system", "status", name, "--json")), &evs)
			var booted, done string
			for _, e := range evs {
				switch e.Kind {
				case "booted":
					booted = e.Detail
				case "done":
					done = e.Detail
				}
			}
			if !strings.Contains(booted, "bond0 "+ip+"/") || !strings.Contains(booted, "bond0.100 "+vlanIP+"/24") || !strings.Contains(booted, fw) {
				t.Errorf("booted report %q lacks bond0 %s, bond0.100 %s or %s", booted, ip, vlanIP, fw)
			}
			if !strings.Contains(done, "installed: disk vda 4096 MiB") {
				t.Errorf("done report %q", done)
			}
			if fw == "bios" {
				want := "system.added build.started build.installed booted"
				for deadline := time.Now().Add(time.Minute); strings.Join(hooks.events(name), " ") != want && time.Now().Before(deadline); {
					time.Sleep(time.Second)
				}
				if got := strings.Join(hooks.events(name), " "); got != want {
					t.Errorf("the webhook receiver got %q of %s, want %q", got, name, want)
				}
			}
			var sys registry.System
			json.Unmarshal([]byte(cli("system", "show", name, "--json")), &sys)
			if sys.Status != registry.StateInstalled || sys.Netboot {
				t.Errorf("%s is %s with netboot %v, want installed, netboot off", name, sys.Status, sys.Netboot)
			}

			// Logged in with the key: the host name, the bond, the VLAN.
			out, err := sshRun(n, key, ip, "hostname; ip -d link; cat /proc/cmdline")
			if err != nil {
				t.Fatalf("ssh root@%s: %v\n%s", ip, err, out)
			}
			for _, want := range []string{name + "\n", "bond mode active-backup", "vlan protocol 802.1Q id 100", "console=ttyS0"} {
				if !strings.Contains(out, want) {
					t.Errorf("ssh output lacks %q:\n%s", want, out)
				}
			}

			// The first NIC's cable pulled: the bond goes on over the second.
			if err := vm.SetLink(0, false); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Second) // MII monitor: 100 ms
			if out, err := sshRun(n, key, ip, "cat /proc/net/bonding/bond0"); err != nil || !strings.Contains(out, "Currently Active Slave") {
				t.Errorf("bonded address after set_link off: %v\n%s", err, out)
			} else {
				t.Logf("bond0 with the first link down:\n%s", out)
			}

			// A second power-on boots the disk, not the deployer: for UEFI,
			// whose firmware's boot order the deploy changed (a BIOS
			// machine's second boot from its disk is discoveryInDeployLab's,
			// after its inspection).
			if fw != "uefi" {
				return
			}
			vm.Stop()
			vm2 := lab.BootVMWith(t, n, mac1, 10*time.Minute, opts)
			waitVM(t, vm2, 8*time.Minute, []vmStage{
				{"systemd from the disk", `Welcome to Debian`},
				{"booted", `provision: booted: ` + name},
			})
			t.Logf("second power-on to booted: %.1fs", time.Since(vm2.Started).Seconds())
			if strings.Contains(vm2.Timed(), "provision: deploying") {
				t.Errorf("the second power-on ran the deployer:\n%s", vm2.Timed())
			}
		})
	}
}

// raidMAC is system disk-raid's (profile raid: RAID1, 256 MiB of swap).
const raidMAC = "52:54:00:d3:01:01"

// deployRAID1: a RAID1 root and a RAID1 swap over two disks (SeaBIOS),
// deployed, booted, booted again with the first disk gone (both arrays
// degraded, the swap on), then reinstalled over both.
func deployRAID1(t *testing.T, n *lab.Net, cli func(...string) string, key string) {
	const mac = raidMAC
	ip := n.Addr(95).String()
	disk1, disk2 := lab.NewDisk(t, 4096), lab.NewDisk(t, 4096)
	vm := lab.BootVMWith(t, n, mac, 20*time.Minute, lab.VMOptions{Disk: disk1, Disks: []string{disk2}, Reboot: true, MemoryMiB: 1024})
	waitVM(t, vm, 15*time.Minute, []vmStage{
		{"layout", `provision: layout on vda 4096 MiB, vdb 4096 MiB: GPT, .*swap 256 MiB.* on RAID1`},
		{"deployed", `provision: deployed: disk vda 4096 MiB, vdb 4096 MiB`},
		{"systemd from the disk", `Welcome to Debian`},
		{"booted", `provision: booted: disk-raid`},
	})
	t.Logf("power-on to booted: %.1fs", time.Since(vm.Started).Seconds())
	const look = "cat /proc/mdstat; echo root $(findmnt -n -o SOURCE /); echo swap $(swapon --show=NAME --noheadings)"
	out, err := sshRun(n, key, ip, look)
	// two arrays, each with both halves in step: the root and the swap
	if err != nil || strings.Count(out, "raid1 ") != 2 || strings.Count(out, "[UU]") != 2 ||
		!regexp.MustCompile(`(?m)^root /dev/md`).MatchString(out) || !regexp.MustCompile(`(?m)^swap /dev/md[0-9]+$`).MatchString(out) {
		t.Fatalf("RAID1 root and swap: %v\n%s", err, out)
	}
	t.Logf("mdstat, root, swap:\n%s", out)
	vm.Stop()
	// The first disk pulled: the second is the only one, and boots.
	vm2 := lab.BootVMWith(t, n, mac, 10*time.Minute, lab.VMOptions{Disk: disk2, Reboot: true, MemoryMiB: 1024})
	waitVM(t, vm2, 9*time.Minute, []vmStage{
		{"systemd from the second disk", `Welcome to Debian`},
		{"booted", `provision: booted: disk-raid`},
	})
	// both arrays degraded, the swap on its array all the same
	out, err = sshRun(n, key, ip, look)
	if err != nil || len(regexp.MustCompile(`\[(U_|_U)\]`).FindAllString(out, -1)) != 2 || !regexp.MustCompile(`(?m)^swap /dev/md[0-9]+$`).MatchString(out) {
		t.Errorf("degraded RAID1: %v\n%s", err, out)
	}
	t.Logf("degraded:\n%s", out)
	vm2.Stop()
	// Reinstalled with both disks back, the first one stale: wiped, the
	// array made again, deployed, booted.
	cli("system", "reinstall", "disk-raid")
	vm3 := lab.BootVMWith(t, n, mac, 15*time.Minute, lab.VMOptions{Disk: disk1, Disks: []string{disk2}, Reboot: true, MemoryMiB: 1024})
	waitVM(t, vm3, 12*time.Minute, []vmStage{
		{"deployed again", `provision: deployed: disk vda 4096 MiB, vdb 4096 MiB`},
		{"booted", `provision: booted: disk-raid`},
	})
	t.Logf("reinstall to booted: %.1fs", time.Since(vm3.Started).Seconds())
	out, err = sshRun(n, key, ip, look)
	if err != nil || strings.Count(out, "[UU]") != 2 {
		t.Errorf("RAID1 after the reinstall: %v\n%s", err, out)
	}
}

// deployFailure is a deploy that cannot go on: system fail-NAME, its
// profile and kernel arguments, its disk's size, and what the console
// and the build's log must say.
type deployFailure struct {
	name, profile, args string
	diskMiB             int
	console             string
}

func (f deployFailure) mac(i int) string { return fmt.Sprintf("52:54:00:d3:02:%02x", i+1) }

// deployFails: the deploy fails, says why on the console and in the
// build's failure (its log), the system is failed, and the machine stays
// where it is: a disk too small (with the sizes), a layout naming a disk
// that is not there (naming it), a rootfs whose sha256 is wrong three
// times.
func deployFails(t *testing.T, n *lab.Net, cli func(...string) string, tok string, f deployFailure, i int) {
	name := "fail-" + f.name
	vm := lab.BootVMWith(t, n, f.mac(i), 15*time.Minute, lab.VMOptions{Disk: lab.NewDisk(t, f.diskMiB), MemoryMiB: 512})
	waitVM(t, vm, 12*time.Minute, []vmStage{
		{"deployer", `provision: deploying image debdisk`},
		{"failed", f.console},
		{"halted", `provision: halted`},
	})
	vm.Stop()
	waitTimeline(t, cli, name, []string{"template", "failed"})
	var sys registry.System
	json.Unmarshal([]byte(cli("system", "show", name, "--json")), &sys)
	if sys.Status != registry.StateFailed {
		t.Errorf("%s is %s, want failed", name, sys.Status)
	}
	log, err := n.Command("curl", "-sf", "-H", "Authorization: Bearer "+tok,
		"http://"+n.ServerIP.String()+"/api/v1/systems/"+name+"/install-log").CombinedOutput()
	if err != nil || !regexp.MustCompile(f.console).Match(log) {
		t.Errorf("the failure's log (%v) lacks %q:\n%s", err, f.console, log)
	}
}
