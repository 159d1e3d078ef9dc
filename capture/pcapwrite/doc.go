// Package pcapwrite keeps what a live capture saw, as pcap files rotated by size and age
// under a cap on their total size, so that a finding can be traced back to its packets.
//
// Files are classic pcap with nanosecond timestamps (magic a1b23c4d), which tcpdump,
// tshark and medscan's own reader open. Each is named PREFIX-YYYYMMDDTHHMMSSZ-NNNN.pcap
// from the capture time (UTC) of its first packet and a sequence number, so names sort
// in time order and never collide (a name in use is skipped, never overwritten).
//
// Invariants:
//
//   - A file on disk always ends with a whole record: records are buffered in memory and
//     written in whole buffers; when a write fails, the file is cut back to its length
//     before that write.
//   - A file is flushed and synced when it is closed at rotation, at Flush and at Close,
//     so a crash loses at most the buffer (256 KiB) and what the kernel had not yet
//     written since the last sync.
//   - Age is measured on the capture clock (the packets' timestamps), so replaying a file
//     rotates as the live capture did.
//   - The total cap counts every PREFIX-*.pcap file in the directory, those of earlier
//     runs included, and deletes the oldest first as soon as the files would exceed it;
//     the file being written is never deleted, and NewRotator refuses a MaxFileBytes
//     above MaxTotalBytes, so the files never exceed the cap.
//   - A write error (a full disk: ENOSPC) is returned once, naming the file; the Rotator
//     then stops writing and counts the packets it no longer keeps, while the capture
//     that feeds it goes on: losing the copy must not stop the scan.
package pcapwrite
