package main

// examples are the Examples: of the commands that do not set their own,
// by command path.
var examples = map[string]string{
	"provision": `provision serve --dev
provision system list
provision system report web001`,
	"provision serve": `provision serve --dev                       # 127.0.0.1, unprivileged ports, ./provision-data
provision serve --dhcp-interface eth1 --api 192.0.2.10:8443
provision serve --config /etc/provision/config.yaml`,
	"provision demo": `sudo provision demo          # the demo lab; Ctrl-C stops it
sudo provision demo --once   # boot both VMs, check what they did, clean up and exit`,
	"provision bootenv":       `provision bootenv build`,
	"provision bootenv build": "provision bootenv build\nprovision bootenv build lvs web",
	"provision events": `provision events --limit 20
provision events --follow --system web001`,
	"provision export": `provision export -o registry.yaml
provision export --with-secrets -o backup.yaml   # needs the admin token`,
	"provision image": `provision image list
provision image add centos --kernel vmlinuz --initrd initrd.img`,
	"provision image add": `provision image add centos9 --kernel vmlinuz --initrd initrd.img
provision image add lvs --kind diskless --kernel-package linux-image-6.1.0-amd64.deb --rootfs lvs.tar.zst`,
	"provision image build": `provision image build lvs --debian bookworm --packages keepalived,ipvsadm --overlay roles/lvs/overlay`,
	"provision image edit":  `provision image edit lvs --rootfs lvs-2.tar.zst`,
	"provision power": `provision power web001 status
provision power web001 cycle
provision power status --all --json`,
	"provision profile": `provision profile list
provision profile add centos-web --image centos9 --kickstart web-ks --set role=web`,
	"provision profile add": `provision profile add centos-web --image centos9 --kernel-args "console=ttyS0" --kickstart web-ks --set role=web
provision profile add lvs --image lvs --set lvs.vrid=100`,
	"provision profile edit": `provision profile edit centos-web --install-timeout 90m
provision profile edit centos-web --set ntp=10.0.0.2 --unset role`,
	"provision setting": `provision setting set lvs.vrid 100
provision setting list`,
	"provision setting get":   `provision setting get lvs.vrid`,
	"provision setting list":  "provision setting list\nprovision setting list --json",
	"provision setting set":   "provision setting set lvs.vrid 100\nprovision setting set root.password-hash \"$HASH\" --public   # published: see --help",
	"provision setting unset": `provision setting unset lvs.vrid`,
	"provision subnet": `provision subnet list
provision subnet add lan --cidr 10.0.0.0/24 --gateway 10.0.0.1 --pool 10.0.0.200-10.0.0.250`,
	"provision subnet add": `provision subnet add lan --cidr 10.0.0.0/24 --gateway 10.0.0.1 --pool 10.0.0.200-10.0.0.250
provision subnet add mgmt --cidr 10.0.1.0/24 --gateway 10.0.1.1 --dns-server 10.0.1.2`,
	"provision subnet edit": `provision subnet edit lan --pool 10.0.0.180-10.0.0.250
provision subnet edit lan --pool ""   # no pool
provision subnet edit lan --discovery on --enrol-bmc on`,
	"provision discovered": `provision discovered list
provision discovered show CZ2D1234AB
provision discovered accept 52:54:00:12:34:56 --name web007 --profile centos-web`,
	"provision discovered list": `provision discovered list
provision discovered list --all --json | jq -r '.[] | [.mac, .state, .system] | @tsv'`,
	"provision discovered show": `provision discovered show 52:54:00:12:34:56
provision discovered show CZ2D1234AB --json | jq .inventory.disks`,
	"provision discovered accept": `provision discovered accept CZ2D1234AB --name web007 --profile centos-web
provision discovered accept 52:54:00:12:34:56 --name db001 --profile centos-db --ip 10.0.0.31 --reinstall`,
	"provision discovered remove": `provision discovered remove 52:54:00:12:34:56`,
	"provision discovered watch": `provision discovered watch 52:54:00:12:34:56
provision discovered watch 52:54:00:12:34:56 --off`,
	"provision rule": `provision rule add tor-a12 --match 'lldp.switch == "tor-a12"' --name 'a12-{{ .LLDP.PortNumber }}' --profile centos-web --ip auto
provision rule test tor-a12 52:54:00:12:34:56`,
	"provision rule add": `provision rule add tor-a12 --match 'lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/([0-9]+)"' \
    --name 'a12-{{ .LLDP.PortNumber }}' --profile centos-web --ip auto --reinstall
provision rule add r650 --match 'dmi.product == "PowerEdge R650"' --name 'db-{{ .DMI.Serial }}' --profile centos-db --priority 10`,
	"provision rule edit": `provision rule edit tor-a12 --priority 5
provision rule edit tor-a12 --reinstall=false`,
	"provision rule test": `provision rule test tor-a12 52:54:00:12:34:56
provision rule test tor-a12 CZ2D1234AB --json`,
	"provision hook": `provision hook add ci --url https://ci.example/provision --events build.installed,build.failed --secret-file hook.secret
provision hook deliveries ci`,
	"provision hook add": `provision hook add ci --url https://ci.example/provision --events build.installed,build.failed --secret-file hook.secret
provision hook add web-cmdb --url http://cmdb.example:8000/hook --events all --system-filter 'web*'`,
	"provision hook test":        `provision hook test ci`,
	"provision hook deliveries":  "provision hook deliveries ci\nprovision hook deliveries ci --json | jq '.[] | select(.state == \"dead\")'",
	"provision system inspect":   `provision system inspect web001`,
	"provision system inventory": "provision system inventory web001\nprovision system inventory web001 --json | jq .inventory.nics",
	"provision system": `provision system add web001 --mac 52:54:00:aa:00:01 --ip 10.0.0.11 --profile centos-web
provision system list --state installed
provision system report web001`,
	"provision system abort":   `provision system abort web001`,
	"provision system netboot": `provision system netboot web001 off   # its next boot boots the local disk`,
	"provision system add": `provision system add web001 --mac 52:54:00:aa:00:01 --ip 10.0.0.11 --profile centos-web
BMC_PW=secret provision system add web002 --mac 52:54:00:aa:00:02 --ip 10.0.0.12 --profile centos-web \
    --bmc-address 10.0.1.12 --bmc-user admin --bmc-password-env BMC_PW`,
	"provision system edit": `provision system edit web001 --ip 10.0.0.21
provision system edit web001 --rename web101
provision system edit web001 --set role=db --unset old.key`,
	"provision system reinstall": `provision system reinstall web001 --wait
provision system reinstall --profile centos-web --wait --timeout 45m`,
	"provision system status": `provision system status web001
provision system status web001 --all --json`,
	"provision template": `provision template list
provision template add web-ks --file web.ks --kind kickstart`,
	"provision template add":    `provision template add web-ks --file web.ks --kind kickstart`,
	"provision template edit":   `provision template edit web-ks --file web.ks`,
	"provision template list":   `provision template list`,
	"provision template remove": `provision template remove web-ks`,
	"provision template render": `provision template render web-ks --system web001`,
	"provision template show":   `provision template show debian12-preseed`,
	"provision token":           `sudo provision token rotate`,
	"provision token rotate": `sudo provision token rotate
sudo provision token rotate --read-only
provision token rotate --data ./provision-data   # the dev server's`,
	"provision zone": `provision zone export > data
provision zone compile data data.cdb`,
	"provision zone compile": `provision zone compile data data.cdb
provision zone compile --serial 1795298781 data data.cdb`,
	"provision zone export": `provision zone export > data
provision zone export --format zone`,
	"provision zone import": `provision zone import data
provision zone import data --replace`,
}
