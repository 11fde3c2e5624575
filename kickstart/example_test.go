package kickstart_test

import (
	"fmt"

	"github.com/provision/provision/kickstart"
)

// The example of the package documentation.
func ExampleSet_Render() {
	script := kickstart.Template{Name: "bootstrap", Kind: kickstart.KindScript, Text: `#!/bin/sh
# {{.System.Hostname}}: install on {{index .Settings "install.disk" | default "/dev/sda"}}
{{- $key := index .Settings "ssh.authorized-key" | required "ssh.authorized-key must be set"}}
echo {{shquote $key}} >> /root/.ssh/authorized_keys
curl -fsS -X POST {{shquote .URLs.Done}}
`}
	s, err := kickstart.NewSet(kickstart.Builtins(), []kickstart.Template{script})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := kickstart.SampleData()
	d.Settings = map[string]string{"ssh.authorized-key": "ssh-ed25519 AAAA... ops@example"}
	out, err := s.Render("bootstrap", d)
	fmt.Printf("%s%v\n", out, err)
	_, err = s.Render("bootstrap", kickstart.SampleData())
	fmt.Println(err)
	fmt.Println(kickstart.BootArgs(kickstart.KindScript, d.URLs.Template))
	// Output:
	// #!/bin/sh
	// # web001.internal: install on /dev/sda
	// echo 'ssh-ed25519 AAAA... ops@example' >> /root/.ssh/authorized_keys
	// curl -fsS -X POST 'http://10.0.0.1/ks/TOKEN/done'
	// <nil>
	// template bootstrap: line 3: ssh.authorized-key must be set
	// [provision.ks=http://10.0.0.1/ks/TOKEN]
}
