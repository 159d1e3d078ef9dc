// Package keyrules holds the rules about public keys in the certificates hosts present.
//
// A weak key is reported at every chain position, not only on the leaf: a host's
// authentication is only as strong as the weakest key on the path to the anchor its
// clients trust (a factorable intermediate or root key lets an attacker mint a leaf for
// that host), and the fix is the host operator's to make by moving to a chain without it.
// The evidence names the position and chain role, so a reader can tell a server's own key
// from its CA's. Each finding is keyed by host, port and certificate.
package keyrules
