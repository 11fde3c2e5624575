// Package tinydns reads and writes the files of djbdns 1.05's tinydns: the
// data file that tinydns-data compiles, and the data.cdb it compiles to.
//
// A data file has one record per line; the first byte selects the type and
// the rest is split on ':' (a colon inside a field is written \072):
//
//	.example.com:192.0.2.1:a:259200      SOA, NS a.ns.example.com, its A
//	&sub.example.com:192.0.2.2:x         NS x.ns.sub.example.com, its A
//	Zexample.com:ns1.example.com.:hostmaster.example.com.:1:16384:2048:1048576:2560:2560
//	+www.example.com:192.0.2.10:3600     A
//	=host.example.com:192.0.2.20         A, and PTR 20.2.0.192.in-addr.arpa
//	@example.com:192.0.2.25:mx:10        MX 10 mx.mx.example.com, its A
//	Cwww2.example.com:www.example.com    CNAME
//	^30.2.0.192.in-addr.arpa:ptr.example.com   PTR
//	'host.example.com:role=web           TXT, in 127-byte strings
//	:aaaa.example.com:28:\040\001...     any other type, raw rdata
//	%in:192.0.2                          clients in 192.0.2/24 are "in"
//
// Each DNS record is stored in data.cdb under its owner name in wire format,
// lowercased, with a leading "*" label removed for wildcards. Its data is
//
//	u16 type | flag '=' '*' '>' '+' | [2-byte location if '>' or '+'] |
//	u32 ttl | 8-byte TAI64 timestamp or zeros | rdata
//
// with integers big-endian. Compile writes a data.cdb byte-identical to
// tinydns-data's; Format writes records back as data lines; Lookup and
// TXTStrings serve readers of a data.cdb.
package tinydns
