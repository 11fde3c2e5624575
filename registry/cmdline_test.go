package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/provision/provision/internal/ipxetext"
)

// TestCheckKernelArgs covers what an operator may type that would change
// the meaning of an iPXE script rather than reach the kernel, or that
// Linux would cut.
func TestCheckKernelArgs(t *testing.T) {
	for _, tt := range []struct {
		name, args, want string // want "": accepted
	}{
		{"plain", "console=ttyS0,115200n8 quiet", ""},
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"quoting and odd words", `inst.ks="http://10.0.0.1/ks/a   b" init=/bin/sh$HOME 'single' -- x=é a#b y||z a;b & $ {x}`, ""},
		{"separator inside a word", "ds=nocloud-net;s=http://10.0.0.1/ks/t/", ""},
		{"at the limit", strings.Repeat("x", MaxCmdline), ""},
		{"newline", "quiet\nshell", "control character U+000A at byte 5"},
		{"CR", "quiet\r", "control character U+000D at byte 5"},
		{"tab", "a\tb", "control character U+0009 at byte 1"},
		{"NUL", "a\x00b", "control character U+0000 at byte 1"},
		{"DEL", "a\x7f", "control character U+007F at byte 1"},
		{"C1", "a\u0085", "control character U+0085 at byte 1"},
		{"invalid UTF-8", "a=\xff", "invalid UTF-8"},
		{"setting expansion", "ip=${net0/ip}", `iPXE setting expansion "${" at byte 3`},
		{"or", "quiet || shell", `word 2 "||" is an iPXE command separator`},
		{"and", "quiet && shell", `word 2 "&&" is an iPXE command separator`},
		{"semicolon", "quiet ; shell", `word 2 ";" is an iPXE command separator`},
		{"comment", "quiet #shell", "word 2 starts an iPXE comment"},
		{"comment after other white space", "quiet\u00a0#shell", "word 2 starts an iPXE comment"},
		{"too long", strings.Repeat("x", MaxCmdline+1), "2048 bytes, Linux takes 2047"},
		{"runs of spaces do not count", strings.Repeat("x   ", 1024), ""}, // 2047 bytes as words
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKernelArgs(tt.args)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Fatalf("CheckKernelArgs(%q) = %v, want %q", tt.args, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "shell") {
				t.Errorf("the error %q quotes the value", err)
			}
		})
	}
}

// FuzzKernelArgs: whatever the operator's arguments, CheckKernelArgs
// refuses them or the command line keeps them as iPXE's words, one
// command: no control character, expansion, separator or comment.
func FuzzKernelArgs(f *testing.F) {
	for _, s := range []string{"", "quiet", "  a  b ", "a\u00a0b", "x || y", "#c", "a ;", "a\nb", "${x}", "é  ü", "\"a  b\""} {
		f.Add(s)
	}
	s := newSnapshot("dsas")
	s.profiles["web"] = &Profile{Name: "web", Image: "centos"}
	f.Fuzz(func(t *testing.T, args string) {
		words, werr := checkArgs(args)
		got, gerr := appendArgs(nil, args)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%q: checkArgs %v, appendArgs %v", args, werr, gerr)
		}
		if want := strings.Join(words, " "); werr == nil && string(got) != want {
			t.Errorf("%q: appendArgs %q, checkArgs %q", args, got, want)
		}
		if CheckKernelArgs(args) != nil {
			return
		}
		sys := &System{Name: "web001", Profile: "web", MACs: []string{"aa:bb:cc:dd:ee:01"}, KernelArgs: args}
		line, err := s.KernelArgs(sys, BootPlan{Netboot: true}, BootVia{Server: "http://10.0.0.1", Initrd: "initrd"})
		if err != nil {
			if strings.Contains(err.Error(), "Linux takes") && len(got) > MaxCmdline-100 {
				return // the appliance's own words made it too long
			}
			t.Fatalf("%q: %v", args, err)
		}
		if err := ipxetext.Check(line); err != nil {
			t.Fatalf("%q: line %q: %v", args, line, err)
		}
		for _, w := range strings.Fields(line) {
			if w == "||" || w == "&&" || w == ";" || w[0] == '#' {
				t.Fatalf("%q: line %q has %q", args, line, w)
			}
		}
	})
}

// A kernel argument that CheckKernelArgs refuses, or arguments that are
// over Linux's limit with their profile's or system's, are refused when
// they are written, naming the object, and nothing is stored.
func TestKernelArgsRefusedAtWrite(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	long := strings.Repeat("x", 1500)
	must(t, func() error { _, err := r.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); return err })
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "big", Image: "centos", KernelArgs: long})
		return err
	})
	editProfile := func(args string) func() error {
		return func() error {
			p, _ := r.Snapshot().Profile("web")
			np := *p
			np.KernelArgs = args
			_, err := r.EditProfile(ctx, "web", np)
			return err
		}
	}
	editSystem := func(args string) func() error {
		return func() error {
			s, _ := r.Snapshot().SystemByName("web001")
			ns := s.Clone()
			ns.KernelArgs = args
			_, err := r.EditSystem(ctx, "web001", ns)
			return err
		}
	}
	addSystem := func(name, profile, args string) func() error {
		return func() error {
			s := sys(name, "aa:bb:cc:dd:ee:02", "10.0.0.12")
			s.Profile, s.KernelArgs = profile, args
			_, err := r.AddSystem(ctx, s)
			return err
		}
	}
	must(t, editSystem(long))
	importDoc := func(doc string) func() error {
		return func() error { _, err := r.Import(ctx, []byte(doc), false); return err }
	}
	for _, tt := range []struct {
		name  string
		write func() error
		want  string
	}{
		{"profile add", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "web2", Image: "centos", KernelArgs: "quiet || shell"})
			return err
		}, `profile web2: kernel args: word 2 "||" is an iPXE command separator`},
		{"profile add over the limit", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "web2", Image: "centos", KernelArgs: strings.Repeat("x", 2048)})
			return err
		}, `profile web2: kernel args: 2048 bytes, Linux takes 2047`},
		{"profile edit", editProfile("a\nb"), "profile web: kernel args: control character U+000A at byte 1"},
		{"profile edit over the limit with a system's", editProfile(long), "profile web: kernel args are 3001 bytes with those of system web001, Linux takes 2047"},
		{"system add", addSystem("web002", "web", "ip=${net0/ip}"), `system web002: kernel args: iPXE setting expansion "${" at byte 3`},
		{"system add over the limit with its profile's", addSystem("web002", "big", long), "system web002: kernel args are 3001 bytes with those of profile big, Linux takes 2047"},
		{"system edit", editSystem("quiet #x"), "system web001: kernel args: word 2 starts an iPXE comment"},
		{"import", importDoc("profiles:\n- {name: web3, image: centos, kernel_args: \"a ; b\"}\n"), `profile web3: kernel args: word 2 ";" is an iPXE command separator`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := r.Snapshot()
			err := tt.write()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvalid with %q", err, tt.want)
			}
			after := r.Snapshot()
			_, web2 := after.Profile("web2")
			_, web3 := after.Profile("web3")
			_, sys2 := after.SystemByName("web002")
			p, _ := after.Profile("web")
			if web2 || web3 || sys2 || p.KernelArgs != "" {
				t.Errorf("stored: profile web2 %v, web3 %v, system web002 %v, profile web %+v", web2, web3, sys2, p)
			}
			if before.Serial != after.Serial {
				t.Errorf("serial %d -> %d", before.Serial, after.Serial)
			}
		})
	}
	back := reopen(t, path).Snapshot()
	if p, _ := back.Profile("web"); p.KernelArgs != "" || back.SystemsOf("big") != nil {
		t.Errorf("the database holds profile web %+v, systems of big %v", p, back.SystemsOf("big"))
	}
}

// BenchmarkKernelArgs: the command line of a diskless system with long
// kernel arguments, as every iPXE script of bench/http.sh has it.
func BenchmarkKernelArgs(b *testing.B) {
	s := newSnapshot("internal")
	s.images["live"] = &Image{Name: "live", Kind: KindDiskless, Unpacked: 3 << 30,
		Files: map[string]File{"rootfs": {SHA256: strings.Repeat("d", 64), Size: 1 << 30}}}
	s.profiles["web"] = &Profile{Name: "web", Image: "live",
		KernelArgs: strings.Repeat("console=ttyS0,115200n8 provision.bench.argument=xxxxxxxxxxxxxxxxxxxxxxxxx ", 20)}
	sys := &System{Name: "web01", Profile: "web", MACs: []string{"52:54:00:aa:bb:01"}}
	plan := BootPlan{Netboot: true, Loader: LoaderIPXE, Image: s.images["live"]}
	via := BootVia{Server: "http://127.0.0.1:8080", Initrd: "initrd"}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendKernelArgs(buf[:0], sys, plan, via); err != nil {
			b.Fatal(err)
		}
	}
}
