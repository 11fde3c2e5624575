package appliance

import "runtime/debug"

// giveBackMin is the least memory let go of at once that giveBack returns
// to the system at once.
const giveBackMin = 16 << 20

// giveBack returns to the system the memory the appliance just let go of,
// when that is much: data.cdb's records once they are kept on disk (about
// 45 MiB at 100,000 systems, after every start and every bulk import).
// Left to the garbage collector, it stays in the process until the next
// cycles and the scavenger reach it, which an idle appliance may not do
// for minutes; a forced cycle costs about what one cycle costs.
func giveBack(bytes int64) {
	if bytes >= giveBackMin {
		debug.FreeOSMemory()
	}
}
