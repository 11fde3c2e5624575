package human

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMiB reads a size in whole MiB: a number with M, G or T (binary
// units, as sfdisk takes them: 2G is 2048 MiB; MiB, GiB, TiB and lower
// case too), or a bare number of MiB. "0" is 0.
func ParseMiB(s string) (int64, error) {
	num := strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(num)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"tib", 1 << 20}, {"gib", 1 << 10}, {"mib", 1}, {"t", 1 << 20}, {"g", 1 << 10}, {"m", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, mult = num[:len(num)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a whole number with M, G or T (2G, 512M), or 0", s)
	}
	return n * mult, nil
}
