// Package snmpwire dissects SNMP v1 and v2c messages (RFC 1157, RFC 3416) over UDP 161
// and 162 far enough to find the community string, which those versions send in clear
// and which is, in practice, a password to read (and often write) a device's
// configuration. The community becomes an observe.Credential of kind "snmp-community",
// masked and keyed-hashed by the SecretHasher; the clear text is never kept.
//
// Roles: the agent (UDP 161) is the server; a trap or inform sent to UDP 162 comes from
// the agent, so its flow is reversed. SNMPv3 carries no community and is only counted.
// BER lengths are checked against the datagram before use; only the message header
// (version, community, PDU tag) is read. Repeated messages of one manager, agent and
// community are aggregated in a table of at most MaxPending entries and given to the sink
// at End, so the hash is computed once per combination.
package snmpwire
