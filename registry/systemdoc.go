package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// docDecoder reads stored System documents without reflection, the bulk
// of a start-up with many systems. It reads the documents json.Marshal
// writes; anything else in a document (a key it does not know, one twice,
// another type, a syntax error) makes it hand the whole document to
// encoding/json instead, so that the result, or the error, is always
// encoding/json's. Strings that systems share (profiles, statuses,
// settings) are interned: one copy for all. A docDecoder is not safe for
// concurrent use.
type docDecoder struct {
	dec      jsontext.Decoder
	buf      bytes.Buffer
	scratch  []byte
	interned map[string]string
	last     [slots]string // the shared strings of the last document, by slot
}

// Slots of docDecoder.last: where a shared string was in the last
// document read. The next document often has the same string there: it
// is found without hashing.
const (
	slotProfile = iota
	slotKernelArgs
	slotStatus
	slotStatusSince
	slotDeadline
	slotBMCUser
	slotBMCProvider
	slotSettings // then each setting's key and value, in order
	slots        = slotSettings + 2*16
	unslotted    = slots // shared, in no slot
	unshared     = -1
)

// maxInterned bounds the strings a docDecoder keeps for sharing: the
// common ones come early, and a fleet of unique values should not fill
// the table.
const maxInterned = 1 << 14

// errUnusual: the document is not one decodeFast reads.
var errUnusual = errors.New("not a document as json.Marshal writes it")

func newDocDecoder() *docDecoder {
	return &docDecoder{interned: map[string]string{}}
}

// decode fills s (zero) from doc, as json.Unmarshal(doc, s) would.
func (d *docDecoder) decode(doc []byte, s *System) error {
	if d.decodeFast(doc, s) == nil {
		return nil
	}
	*s = System{}
	return json.Unmarshal(doc, s)
}

// The keys of a System document, one bit each (a key twice is unusual).
const (
	keyID = 1 << iota
	keyName
	keyHostname
	keyMACs
	keyIP
	keyProfile
	keyNetboot
	keyKernelArgs
	keySettings
	keySecretSettings
	keyBMC
	keyInterfaces
	keyStatus
	keyStatusSince
	keyDeadline
)

var systemKeys = map[string]int{
	"id": keyID, "name": keyName, "hostname": keyHostname, "macs": keyMACs, "ip": keyIP,
	"profile": keyProfile, "netboot": keyNetboot, "kernel_args": keyKernelArgs, "settings": keySettings,
	"secret_settings": keySecretSettings, "bmc": keyBMC, "interfaces": keyInterfaces, "status": keyStatus,
	"status_since": keyStatusSince, "deadline": keyDeadline,
}

func (d *docDecoder) decodeFast(doc []byte, s *System) error {
	d.buf.Reset()
	d.buf.Write(doc)
	d.dec.Reset(&d.buf, jsontext.AllowDuplicateNames(true))
	seen := 0
	err := d.object(func(key []byte) error {
		k := systemKeys[string(key)]
		if k == 0 || seen&k != 0 {
			return errUnusual
		}
		seen |= k
		return d.systemField(k, s)
	})
	if err != nil {
		return err
	}
	if _, err := d.dec.ReadToken(); err != io.EOF { // more after the document
		return errUnusual
	}
	return nil
}

func (d *docDecoder) systemField(k int, s *System) error {
	var err error
	switch k {
	case keyID:
		s.ID, err = d.str(unshared)
	case keyName:
		s.Name, err = d.str(unshared)
	case keyHostname:
		s.Hostname, err = d.str(unshared)
	case keyMACs:
		s.MACs, err = d.strs()
	case keyIP:
		s.IP, err = d.str(unshared)
	case keyProfile:
		s.Profile, err = d.str(slotProfile)
	case keyNetboot:
		s.Netboot, err = d.bool()
	case keyKernelArgs:
		s.KernelArgs, err = d.str(slotKernelArgs)
	case keySettings:
		s.Settings, err = stringMap[string](d, slotSettings)
	case keySecretSettings:
		s.SecretSettings, err = stringMap[Secret](d, unslotted)
	case keyBMC:
		s.BMC, err = d.bmc()
	case keyInterfaces:
		err = d.raw(&s.Interfaces)
	case keyStatus:
		s.Status, err = d.str(slotStatus)
	case keyStatusSince:
		s.StatusSince, err = d.str(slotStatusSince)
	case keyDeadline:
		s.Deadline, err = d.str(slotDeadline)
	}
	return err
}

// The keys of a BMC.
const (
	keyAddress = 1 << iota
	keyUser
	keyPasswordSet
	keyProvider
	keyPort
	keyFingerprint
	keyInsecure
)

var bmcKeys = map[string]int{
	"address": keyAddress, "user": keyUser, "password_set": keyPasswordSet, "provider": keyProvider,
	"port": keyPort, "fingerprint": keyFingerprint, "insecure": keyInsecure,
}

func (d *docDecoder) bmc() (*BMC, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return nil, err
	}
	b := &BMC{}
	seen := 0
	err := d.object(func(key []byte) error {
		k := bmcKeys[string(key)]
		if k == 0 || seen&k != 0 {
			return errUnusual
		}
		seen |= k
		var err error
		switch k {
		case keyAddress:
			b.Address, err = d.str(unshared)
		case keyUser:
			b.User, err = d.str(slotBMCUser)
		case keyPasswordSet:
			b.PasswordSet, err = d.bool()
		case keyProvider:
			b.Provider, err = d.str(slotBMCProvider)
		case keyPort:
			b.Port, err = d.int()
		case keyFingerprint:
			b.Fingerprint, err = d.str(unshared)
		case keyInsecure:
			b.Insecure, err = d.bool()
		}
		return err
	})
	return b, err
}

// object reads an object, calling field for each name with the decoder
// at its value; the name is valid during the call only.
func (d *docDecoder) object(field func(name []byte) error) error {
	if t, err := d.dec.ReadToken(); err != nil || t.Kind() != '{' {
		return errUnusual
	}
	for d.dec.PeekKind() != '}' {
		v, err := d.dec.ReadValue()
		if err != nil || v.Kind() != '"' {
			return errUnusual
		}
		name, err := d.unquote(v)
		if err != nil {
			return err
		}
		if err := field(name); err != nil {
			return err
		}
	}
	_, err := d.dec.ReadToken()
	return err
}

// unquote returns a string value's text, valid until the next read.
func (d *docDecoder) unquote(v jsontext.Value) ([]byte, error) {
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body, nil
	}
	var err error
	d.scratch, err = jsontext.AppendUnquote(d.scratch[:0], v)
	return d.scratch, err
}

// str reads a string (null: ""), interned unless slot is unshared.
func (d *docDecoder) str(slot int) (string, error) {
	v, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	switch v.Kind() {
	case 'n':
		return "", nil
	case '"':
	default:
		return "", errUnusual
	}
	b, err := d.unquote(v)
	if err != nil || slot == unshared {
		return string(b), err
	}
	return d.intern(slot, b), nil
}

// intern returns b as a string, the same string for the same text.
func (d *docDecoder) intern(slot int, b []byte) string {
	if slot < slots && d.last[slot] == string(b) {
		return d.last[slot]
	}
	s, ok := d.interned[string(b)]
	if !ok {
		s = string(b)
		if len(d.interned) < maxInterned {
			d.interned[s] = s
		}
	}
	if slot < slots {
		d.last[slot] = s
	}
	return s
}

// strs reads an array of strings (null: nil).
func (d *docDecoder) strs() ([]string, error) {
	t, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch t.Kind() {
	case 'n':
		return nil, nil
	case '[':
	default:
		return nil, errUnusual
	}
	out := []string{}
	for d.dec.PeekKind() != ']' {
		if d.dec.PeekKind() != '"' {
			return nil, errUnusual
		}
		s, err := d.str(unshared)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	_, err = d.dec.ReadToken()
	return out, err
}

// stringMap reads an object of strings (null: nil), keys and values
// interned, in slots from slot on.
func stringMap[V ~string](d *docDecoder, slot int) (map[string]V, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return nil, err
	}
	m := map[string]V{}
	err := d.object(func(key []byte) error {
		if slot+1 >= slots {
			slot = unslotted
		}
		k := d.intern(slot, key)
		if d.dec.PeekKind() != '"' {
			return errUnusual
		}
		v, err := d.str(slot + 1)
		m[k] = V(v)
		if slot != unslotted {
			slot += 2
		}
		return err
	})
	return m, err
}

func (d *docDecoder) bool() (bool, error) {
	t, err := d.dec.ReadToken()
	if err != nil {
		return false, err
	}
	switch t.Kind() {
	case 't':
		return true, nil
	case 'f', 'n':
		return false, nil
	}
	return false, errUnusual
}

func (d *docDecoder) int() (int, error) {
	v, err := d.dec.ReadValue()
	if err != nil {
		return 0, err
	}
	switch v.Kind() {
	case 'n':
		return 0, nil
	case '0':
	default:
		return 0, errUnusual
	}
	n, err := strconv.ParseInt(string(v), 10, strconv.IntSize)
	if err != nil {
		return 0, errUnusual
	}
	return int(n), nil
}

// raw reads a value with encoding/json: the parts of a document that few
// systems have.
func (d *docDecoder) raw(out any) error {
	v, err := d.dec.ReadValue()
	if err != nil {
		return err
	}
	return json.Unmarshal(v, out)
}
