package tinydns

import (
	"fmt"
	"io"

	"github.com/provision/provision/dnsconf/cdb"
)

// Compile reads a data file and writes the data.cdb that djbdns 1.05
// tinydns-data writes for it when the file's modification time is serial.
// Nothing is written to out unless the whole file parses.
func Compile(data io.Reader, serial uint32, out io.Writer) error {
	w := cdb.NewWriter(out)
	err := ParseFunc(data, Options{Serial: serial}, func(r Record) error {
		return add(w, r)
	})
	if err != nil {
		return err
	}
	return w.Close()
}

// WriteCDB writes recs, in order, as a data.cdb. The appliance builds its
// own data.cdb this way from the records of its zone.
func WriteCDB(out io.Writer, recs []Record) error {
	w := cdb.NewWriter(out)
	for _, r := range recs {
		if err := add(w, r); err != nil {
			return err
		}
	}
	return w.Close()
}

func add(w *cdb.Writer, r Record) error {
	key, data := r.CDB()
	if err := w.Add(key, data); err != nil {
		return fmt.Errorf("tinydns: %w", err)
	}
	return nil
}
