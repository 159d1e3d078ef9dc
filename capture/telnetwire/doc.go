// Package telnetwire dissects Telnet (RFC 854) far enough to find the login a client
// types in clear: the user name after a "login:" (or "username:") prompt and the line
// typed after a "password:" prompt, which becomes an observe.Credential of kind
// "telnet-password", masked and keyed-hashed; the clear password is never kept.
//
// A stream is Telnet when its first bytes are an option negotiation (IAC followed by
// WILL, WONT, DO or DONT and an option), which no other protocol medscan dissects starts
// with. Negotiations and subnegotiations are stripped from both directions; the client's
// backspaces and deletes edit the line being collected, as a terminal would. Lines are
// capped at maxLine bytes, a session at MaxAttempts logins, and the dissector is done
// after MaxBytes of traffic: what follows a login is the session itself, which is not
// examined.
package telnetwire
