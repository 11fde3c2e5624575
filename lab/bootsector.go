package lab

// DiskBootedMarker is what BootSector prints through the BIOS; SeaBIOS
// copies it to the serial console.
const DiskBootedMarker = "PROVISION-DISK-BOOTED"

// isa-debug-exit: a guest's write of value v to its port makes QEMU exit
// with status (v<<1)|1. BootSector writes diskBootedValue.
const (
	debugExitPort   = 0xf4
	diskBootedValue = 0x10
)

// DiskBootedExit is QEMU's exit status when BootSector ran in a VM with
// VMOptions.DebugExit: (0x10<<1)|1.
const DiskBootedExit = diskBootedValue<<1 | 1

// bootCode is the boot sector's code, 16-bit real mode, loaded by the
// BIOS at 0000:7C00 (hand-assembled; objdump -D -b binary -m i8086
// --adjust-vma=0x7c00 shows it back):
//
//	7c00  fa         cli
//	7c01  31 c0      xor  ax, ax
//	7c03  8e d8      mov  ds, ax          ; the message is addressed from 0
//	7c05  8e d0      mov  ss, ax
//	7c07  bc 00 7c   mov  sp, 0x7c00      ; stack below the code
//	7c0a  fb         sti
//	7c0b  fc         cld                  ; lodsb counts up
//	7c0c  be 30 7c   mov  si, msg
//	print:
//	7c0f  ac         lodsb                ; al = [ds:si++]
//	7c10  84 c0      test al, al
//	7c12  74 09      jz   done            ; NUL ends the message
//	7c14  b4 0e      mov  ah, 0x0e        ; int 10h teletype output
//	7c16  bb 07 00   mov  bx, 0x0007      ; page 0, light grey
//	7c19  cd 10      int  0x10
//	7c1b  eb f2      jmp  print
//	done:
//	7c1d  b8 00 06   mov  ax, 0x0600      ; int 10h scroll up, AL=0: clear
//	7c20  b7 07      mov  bh, 0x07        ;   the window ...
//	7c22  31 c9      xor  cx, cx          ;   ... from row 0, column 0
//	7c24  31 d2      xor  dx, dx          ;   ... to row 0, column 0
//	7c26  cd 10      int  0x10            ; (see below)
//	7c28  b0 10      mov  al, 0x10        ; diskBootedValue
//	7c2a  e6 f4      out  0xf4, al        ; isa-debug-exit: QEMU exits 33
//	halt:                                 ; without that device: stop here
//	7c2c  fa         cli
//	7c2d  f4         hlt
//	7c2e  eb fc      jmp  halt
//	msg:
//	7c30  "PROVISION-DISK-BOOTED" 0d 0a 00
//
// SeaBIOS's serial console holds back the last character and cursor move
// of teletype output until its next call: without the call at 7c26, QEMU
// exits before the last "D", CR and LF reach the serial port. Clearing
// one cell, not the whole screen, makes it flush and print nothing else.
var bootCode = []byte{
	0xfa,
	0x31, 0xc0,
	0x8e, 0xd8,
	0x8e, 0xd0,
	0xbc, 0x00, 0x7c,
	0xfb,
	0xfc,
	0xbe, 0x30, 0x7c,
	0xac,
	0x84, 0xc0,
	0x74, 0x09,
	0xb4, 0x0e,
	0xbb, 0x07, 0x00,
	0xcd, 0x10,
	0xeb, 0xf2,
	0xb8, 0x00, 0x06,
	0xb7, 0x07,
	0x31, 0xc9,
	0x31, 0xd2,
	0xcd, 0x10,
	0xb0, diskBootedValue,
	0xe6, debugExitPort,
	0xfa,
	0xf4,
	0xeb, 0xfc,
}

// bootMessageOffset is where msg starts in the sector (mov si, 0x7c30).
const bootMessageOffset = 0x30

// BootSector returns a 512-byte x86 master boot record that prints
// DiskBootedMarker with the BIOS's teletype call (int 10h, AH=0Eh), then
// writes 0x10 to I/O port 0xf4, which makes QEMU exit with DiskBootedExit
// when it has the isa-debug-exit device, and halts. Its partition table is
// empty; it ends with the boot signature 55 AA.
func BootSector() []byte {
	s := make([]byte, 512)
	copy(s, bootCode)
	copy(s[bootMessageOffset:], DiskBootedMarker+"\r\n\x00")
	s[510], s[511] = 0x55, 0xaa
	return s
}
