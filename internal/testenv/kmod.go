package testenv

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// FakeModule returns a minimal ELF64 relocatable file whose .modinfo
// section holds the given key=value strings, as a kernel module's does.
func FakeModule(info ...string) []byte {
	modinfo := []byte(strings.Join(info, "\x00") + "\x00")
	shstrtab := []byte("\x00.modinfo\x00.shstrtab\x00")
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { binary.Write(&b, le, v) }
	shoff := uint64(64 + len(modinfo) + len(shstrtab))
	shoff = (shoff + 7) &^ 7
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	w(uint16(1))  // e_type ET_REL
	w(uint16(62)) // e_machine EM_X86_64
	w(uint32(1))  // e_version
	w(uint64(0))  // e_entry
	w(uint64(0))  // e_phoff
	w(shoff)      // e_shoff
	w(uint32(0))  // e_flags
	w([]uint16{64, 0, 0, 64, 3, 2})
	b.Write(modinfo)
	b.Write(shstrtab)
	b.Write(make([]byte, int(shoff)-b.Len()))
	section := func(name, typ uint32, off, size uint64) {
		w([]uint32{name, typ})
		w([]uint64{0, 0, off, size})
		w([]uint32{0, 0})
		w([]uint64{1, 0})
	}
	section(0, 0, 0, 0)
	section(1, 1, 64, uint64(len(modinfo)))
	section(10, 3, 64+uint64(len(modinfo)), uint64(len(shstrtab)))
	return b.Bytes()
}
