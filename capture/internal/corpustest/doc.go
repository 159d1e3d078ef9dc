// Package corpustest is the test-only bridge between the dissector tests and the shared
// capture corpus (../shared/corpus from the repository root): it finds the corpus, splits a
// capture into per-flow TCP byte streams, reads the oracle's expected facts, replays streams
// into a dissector and records what the dissector emitted.
//
// It is imported only by _test.go files. Its capture reader is deliberately naive (no
// IP defragmentation, no out-of-order repair beyond dropping retransmitted bytes): the
// corpus captures are small and clean, and the real engine is tested elsewhere.
package corpustest
