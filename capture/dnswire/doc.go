// Package dnswire dissects the name services that tie a name to an address: DNS
// responses (UDP 53), multicast DNS (5353), LLMNR (5355) and the NetBIOS name service
// (137). Each answer naming an address becomes an observe.HostName under its source:
// "dns" and "llmnr" from A/AAAA answers, "mdns" from A/AAAA records and from the service
// instances whose SRV target is a host the same message gives an address for, "netbios"
// from NB records of registrations and positive responses (group names, which name
// workgroups rather than hosts, are skipped).
//
// DNS, mDNS and LLMNR names are lowercased; NetBIOS names are kept as sent, without the
// padding and the suffix byte. Name decompression follows at most maxJumps pointers, each
// strictly backwards, so a loop cannot run; a datagram's records are read up to
// MaxRecords. Nothing is allocated for a datagram on another port.
package dnswire
