// Package coderules judges update images for code signing: the facts package codesign
// gathered (observe.UpdateImage: signed or not, verifies or not, who signed, chain to the
// policy's anchors, weaknesses) become update-unsigned, update-signature-invalid,
// update-signer-untrusted, update-signer-weak and update-inconsistent.
//
// Each finding is about one image: on its update server's address and port for an image
// from the wire, on its file for medscan verify; the subject is the image's SHA-256, so
// that two different images under one name are two findings. The evidence always names
// the origin, dir and name, which the history (findings.SeenUpdateImage) uses to tell
// whether a later run examined the image again.
package coderules
