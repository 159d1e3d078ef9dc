// Package hl7wire dissects HL7 version 2 messages carried in MLLP frames (0x0B, message,
// 0x1C 0x0D) on a reassembled TCP stream, in both directions, and emits one
// observe.HL7Message per message: its sending and receiving applications and facilities,
// message type, trigger event and version from the MSH segment, whether it is an
// acknowledgement (an MSA segment) and its code (MSA-1: AA, AE, AR, CA, CE, CR), the
// devices it names (PRT-16, the participation device's UDI, v2.7 and later; OBX-18, the
// equipment instance identifier: every repetition, components kept together, at most
// observe.MaxHL7Devices distinct ones), and how many patient-identifying segments it held.
//
// Invariants:
//   - Patient data is never copied. Only the MSH segment is buffered (at most MaxHeader
//     bytes), and of PRT, OBX and MSA only the one field read (PRT-16, OBX-18, MSA-1, at
//     most 512 bytes; the fields before it, OBX-5 among them, stream past by count: they
//     may hold results). Device identifiers name equipment, not patients. Of every other
//     segment only its three-letter ID is looked at, to count the
//     patient-identifying ones (PID, PD1, NK1, PV1, PV2, MRG, GT1, IN1, IN2, IN3, ACC: the
//     segments that name, locate or insure a patient or a relation) in PatientSegments.
//   - Memory does not grow with message size: a message is parsed as it streams past. A
//     frame still open after MaxMessage bytes is taken to have lost its end: what its MSH
//     said is emitted, "hl7_oversized" is counted, and parsing resumes at the next 0x0B.
//   - A frame whose first segment is not MSH, FHS or BHS is counted ("hl7_bad_frame") and
//     skipped. Batches (FHS/BHS ... MSH ... MSH ... BTS/FTS, in one MLLP frame) yield one
//     message per MSH, each with its own segments; the batch header and trailer segments
//     belong to no message. An MSA-1 outside the six codes is counted ("hl7_bad_msa").
//   - A Gap, or a 0x0B inside an open frame, ends the current message (emitted if its MSH
//     was read, counted as "hl7_gap" or "hl7_unterminated") and parsing resumes at the next
//     0x0B, MLLP's own resynchronisation point.
//   - Done is never true: HL7 keeps counting messages for as long as the flow lives.
//
// Application and facility fields are HL7 HD values (namespace ID ^ universal ID ^
// universal ID type). medscan keeps the namespace ID, the name people configure and
// recognise ("LAB" of "LAB^1.2.3^ISO"), and falls back to the universal ID when the
// namespace ID is empty; only the first repetition is used.
package hl7wire
