package lab

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQEMUArgs(t *testing.T) {
	mac, _ := net.ParseMAC("52:54:00:4c:41:42")
	vm := &VM{MAC: mac, Tap: "t5254004c4142", Accel: "tcg"}
	common := "-machine pc,accel=tcg -m 256 -smp 1 -nodefaults -no-user-config -nographic -serial stdio -monitor none"
	for _, tc := range []struct {
		name string
		opts VMOptions
		want string
	}{
		{"BootVM", VMOptions{}, common + " -no-reboot -boot n" +
			" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42"},
		{"installer", VMOptions{Disk: "/tmp/a,b/disk.raw", Reboot: true, DebugExit: true},
			common + " -drive if=none,id=d0,format=raw,file=/tmp/a,,b/disk.raw -device virtio-blk-pci,drive=d0,bootindex=2" +
				" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42,bootindex=1" +
				" -device isa-debug-exit,iobase=0xf4,iosize=0x04"},
		{"console", VMOptions{Console: "/tmp/c,on"}, strings.Replace(common, "-serial stdio", "-chardev file,id=con0,append=on,path=/tmp/c,,on -serial chardev:con0", 1) + " -no-reboot -boot n" +
			" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42"},
		{"SOL serial", VMOptions{Serial: "/tmp/s,1/serial.sock", Console: "/tmp/c"}, strings.Replace(common, "-serial stdio", "-chardev socket,id=con0,path=/tmp/s,,1/serial.sock -serial chardev:con0", 1) + " -no-reboot -boot n" +
			" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42"},
		{"kernel", VMOptions{Kernel: "/k/vmlinuz", Initrd: "/k/initrd.gz", Append: "console=ttyS0 provision.labshell=1"}, common + " -no-reboot -kernel /k/vmlinuz -initrd /k/initrd.gz -append console=ttyS0 provision.labshell=1" +
			" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42"},
		{"memory", VMOptions{MemoryMiB: 1024}, strings.Replace(common, "-m 256", "-m 1024", 1) + " -no-reboot -boot n" +
			" -netdev tap,id=net0,ifname=t5254004c4142,script=no,downscript=no -device e1000,netdev=net0,mac=52:54:00:4c:41:42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, strings.Join(vm.qemuArgs(tc.opts), " ")); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}
