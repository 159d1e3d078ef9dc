// Package dicomwire dissects the DICOM upper layer (PS3.8) on a reassembled TCP stream: the
// A-ASSOCIATE-RQ that opens an association and the answer to it (A-ASSOCIATE-AC, -RJ or
// an A-ABORT), and emits one observe.DICOMAssociation: calling and called AE titles, the
// proposed abstract syntaxes (SOP classes), the requestor's implementation class UID and
// version name, and the result.
//
// Invariants:
//   - Only association PDUs (RQ, AC) are buffered, as their bytes arrive and at most
//     MaxAssociatePDU bytes of one; every other PDU (P-DATA-TF above all: images) is
//     skipped by count without buffering. P-DATA-TF PDUs are counted as "dicom_pdata_pdus".
//   - Every length (PDU, item, sub-item) is checked against the bytes actually present; an
//     item that claims more ends the parsing of that PDU ("dicom_bad_item") and what was
//     read before it is kept. A PDU cut short by the end of the flow is parsed as far as
//     it goes.
//   - The upper layer has no resynchronisation point: an unknown PDU type
//     ("dicom_bad_pdu") or a Gap outside a P-DATA body ("dicom_gap") ends the parsing of
//     that direction. A Gap inside a P-DATA body only shortens the skip.
//   - The association is emitted when its answer arrives (or at End without one), and
//     Done is then true: one TCP connection carries one association, and the data that
//     follows (patient images) is of no interest and must not be kept. P-DATA PDUs are
//     therefore only counted while the dissector still runs (before the answer, or when
//     the answer was not captured).
//   - The application context is checked (PS3.7 defines only 1.2.840.10008.3.1.1.1; any
//     other is counted as "dicom_unknown_app_context") but not reported: it carries no
//     posture information beyond that.
//   - A-ASSOCIATE-AC repeats the AE titles of the request, so a capture holding only the
//     server side still names both.
package dicomwire
