package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// filled sets every field of the value v points to, recursively, to
// something other than its zero value.
func filled(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(623)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		filled(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			filled(v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"a.key", "b"} {
			e := reflect.New(v.Type().Elem()).Elem()
			filled(e)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			filled(v.Field(i))
		}
	default:
		panic("filled: no value for a " + v.Kind().String())
	}
}

// TestDocDecoderEveryField: a System with every field set, as stored,
// is read by the fast path (a field it does not know would send every
// document to encoding/json) into what encoding/json reads.
func TestDocDecoderEveryField(t *testing.T) {
	var s System
	filled(reflect.ValueOf(&s).Elem())
	doc, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var want, got System
	if err := json.Unmarshal(doc, &want); err != nil {
		t.Fatal(err)
	}
	if err := newDocDecoder().decodeFast(doc, &got); err != nil {
		t.Fatalf("the fast path refused %s: %v (a new field of System or BMC? read it in systemdoc.go)", doc, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded %s (-encoding/json +docDecoder):\n%s", doc, d)
	}
}

// docCases are documents as stored and as they might be after a hand
// edit or by an older or newer provision.
var docCases = []string{
	`{"id":"01489a10a8185224","name":"h00000","hostname":"h00000.dsas","macs":["02:00:00:00:00:00"],"ip":"172.16.1.2","profile":"web","netboot":true,"settings":{"k1":"v1","mysql.server_id":"0"},"status":"diskless","status_since":"2026-12-07T11:37:15Z"}`,
	`{"name":"a","macs":[],"settings":{},"secret_settings":{"pw":""},"bmc":{"address":"10.0.0.9","user":"root","password_set":true,"port":623,"provider":"ipmi"},"interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","primary":true}]}`,
	`{"name":"a","macs":null,"settings":null,"bmc":null,"interfaces":null,"netboot":null,"status":null}`,
	`{"name":"\u0068\u00e9\"\\\/\n","settings":{"k\u0031":"v\ud83d\ude00"}}`,
	` {"name" : "a" , "netboot" : false } `,
	`{}`, `null`, `[]`, `"a"`, ``, `{`, `{"name":"a"} x`, `{"name":"a"}{}`, `{"name":"a",}`,
	`{"Name":"a"}`, `{"NAME":"b","name":"a"}`, `{"name":"a","future_field":[1,{"x":2}]}`,
	`{"name":"a","name":"b"}`, `{"settings":{"a":"1"},"settings":{"b":"2"}}`, `{"bmc":{"port":1},"bmc":{"user":"u"}}`,
	`{"settings":{"a":"1","a":"2"}}`, `{"settings":{"a":null}}`, `{"settings":{"a":1}}`, `{"macs":["a",null]}`, `{"macs":"a"}`,
	`{"name":1}`, `{"netboot":"yes"}`, `{"netboot":1}`, `{"bmc":{"port":"623"}}`, `{"bmc":{"port":1.5}}`,
	`{"bmc":{"port":1e2}}`, `{"bmc":{"port":-0}}`, `{"bmc":{"port":99999999999999999999}}`, `{"bmc":{"Address":"x"}}`,
	`{"bmc":{"address":"x","other":1}}`, `{"bmc":[]}`, `{"interfaces":{}}`, `{"interfaces":[{"vlan_id":"x"}]}`,
	"{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"name":"\ud800x"}`, `{"id":"a","deadline":"b","kernel_args":"c"}`,
}

// checkLikeEncodingJSON fails t when the docDecoder does not read doc into
// what encoding/json reads, or fails where it does not (or the reverse).
func checkLikeEncodingJSON(t *testing.T, d *docDecoder, doc []byte) {
	var want, got System
	werr := json.Unmarshal(doc, &want)
	gerr := d.decode(doc, &got)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: error %v, encoding/json's %v", doc, gerr, werr)
	}
	if d := cmp.Diff(want, got); werr == nil && d != "" {
		t.Fatalf("%q (-encoding/json +docDecoder):\n%s", doc, d)
	}
}

func TestDocDecoderLikeEncodingJSON(t *testing.T) {
	d := newDocDecoder()
	for i, doc := range docCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkLikeEncodingJSON(t, d, []byte(doc)) })
	}
}

// TestDocDecoderInterns: strings systems share are one copy.
func TestDocDecoderInterns(t *testing.T) {
	d := newDocDecoder()
	var a, b System
	for _, x := range []struct {
		s   *System
		doc string
	}{{&a, `{"name":"a","profile":"web","settings":{"k":"v"}}`}, {&b, `{"name":"b","profile":"web","settings":{"k":"v"}}`}} {
		if err := d.decodeFast([]byte(x.doc), x.s); err != nil {
			t.Fatal(err)
		}
	}
	if a.Profile != "web" || b.Settings["k"] != "v" {
		t.Fatalf("decoded %+v, %+v", a, b)
	}
	if unsafe.StringData(a.Profile) != unsafe.StringData(b.Profile) || unsafe.StringData(a.Settings["k"]) != unsafe.StringData(b.Settings["k"]) {
		t.Error("the profile and setting of two systems are two copies")
	}
}

func FuzzDocDecoder(f *testing.F) {
	for _, doc := range docCases {
		f.Add([]byte(doc))
	}
	d := newDocDecoder()
	f.Fuzz(func(t *testing.T, doc []byte) { checkLikeEncodingJSON(t, d, doc) })
}
