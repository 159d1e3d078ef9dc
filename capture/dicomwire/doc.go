// Package dicomwire dissects the DICOM upper layer (PS3.8) on a reassembled TCP stream: the
// A-ASSOCIATE-RQ that opens an association, the answer to it (A-ASSOCIATE-AC, -RJ or an
// A-ABORT), the P-DATA-TF PDUs that follow and the A-RELEASE or A-ABORT that ends it, and
// emits one observe.DICOMAssociation: calling and called AE titles, the proposed abstract
// syntaxes (SOP classes) with their names (Name), the requestor's implementation class UID
// and version name and its SCU/SCP role selections, how many presentation contexts the AC
// accepted and rejected, the P-DATA PDUs and bytes, a count of patient attributes, and
// the result ("accepted", "rejected", "released", "aborted").
//
// Invariants:
//   - Only association PDUs (RQ, AC) are buffered, as their bytes arrive and at most
//     MaxAssociatePDU bytes of one; every other PDU (P-DATA-TF above all: images) is
//     skipped by count without buffering. P-DATA-TF PDUs are counted as "dicom_pdata_pdus".
//   - Patient attributes are counted, never stored: the PDV items of a P-DATA body are
//     followed as they stream past, and the data set fragments (not the commands) are
//     scanned for the little-endian tags of PatientName, PatientID and PatientBirthDate
//     (10 00 10 00, 10 00 20 00, 10 00 30 00) followed by their explicit VR with a
//     non-zero length, or by a plausible non-zero implicit-VR length; eight bytes carry
//     over between fragments, PDVs and PDUs. This is a heuristic: it stops at the pixel
//     data element (which follows the patient module, tags being ascending) so image bytes
//     give no false matches, but other binary values may still; big endian and deflated
//     transfer syntaxes are not recognised. A PDV that claims less than its header or
//     crosses its PDU ("dicom_bad_pdv") ends the scan of that PDU.
//   - Every length (PDU, item, sub-item) is checked against the bytes actually present; an
//     item that claims more ends the parsing of that PDU ("dicom_bad_item") and what was
//     read before it is kept. A PDU cut short by the end of the flow is parsed as far as
//     it goes.
//   - The upper layer has no resynchronisation point: an unknown PDU type
//     ("dicom_bad_pdu") or a Gap outside a P-DATA body ("dicom_gap") ends the parsing of
//     that direction. A Gap inside a P-DATA body only shortens the skip.
//   - The association is emitted when it ends: A-ASSOCIATE-RJ, A-RELEASE-RP, A-ABORT,
//     or End. Done stays false until then, so that P-DATA is counted; it costs little,
//     since P-DATA bodies are only scanned up to their pixel data and never buffered.
//     A-RELEASE-RQ after acceptance makes the result "released"; an abort overrides an
//     acceptance or a release, not a rejection.
//   - The application context is checked (PS3.7 defines only 1.2.840.10008.3.1.1.1; any
//     other is counted as "dicom_unknown_app_context") but not reported: it carries no
//     posture information beyond that.
//   - A-ASSOCIATE-AC repeats the AE titles of the request, so a capture holding only the
//     server side still names both.
package dicomwire
