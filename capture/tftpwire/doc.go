// Package tftpwire dissects TFTP (RFC 1350, with the option extension of RFC 2347 and
// the block size option of RFC 2348): a read or write request to UDP 69 names a file,
// and the transfer continues between the client's port and a fresh server port. Each
// transfer's file is hashed (SHA-256) block by block in order and becomes an
// observe.FileTransfer when its last, short block arrives, with the image kind decided
// as for HTTP bodies (capture/internal/image). With an update keeper
// (dissect.DatagramContext.Keep) the blocks hashed are handed to it too, and a whole
// image or signature is kept (package updatekeep); a transfer with a lost block is not.
//
// Retransmitted blocks are recognised by number and hashed once; a block that skips ahead
// means one was lost, and the transfer is then Partial, with no digest. Requests waiting
// for an answer and transfers in progress are each capped (MaxRequests, MaxTransfers) and
// expire after IdleTimeout of capture time without a datagram; an expired or unfinished
// transfer is reported Partial.
package tftpwire
