package probe

import "crypto/rand"

// SSLv2 needs no suite enumeration: a server's SERVER-HELLO lists every cipher kind it
// shares with the client, so one hello offering all kinds learns them all.

// sslv2Hello builds an SSLv2 CLIENT-HELLO offering every SSLv2 cipher kind, and nothing
// of SSLv3 or TLS, so that only a server that speaks SSLv2 itself answers it.
func sslv2Hello() []byte {
	var challenge [16]byte
	_, _ = rand.Read(challenge[:]) // crypto/rand.Read never fails
	body := []byte{1, 0, 2}        // CLIENT-HELLO, version 2
	body = appendU16(body, uint16(3*len(sslv2Kinds)))
	body = appendU16(body, 0) // no session ID
	body = appendU16(body, uint16(len(challenge)))
	for _, k := range sslv2Kinds {
		body = append(body, byte(k>>16), byte(k>>8), byte(k))
	}
	body = append(body, challenge[:]...)
	return append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
}

// sslv2ServerKinds reads the cipher kinds from the body of an SSLv2 SERVER-HELLO record
// (the bytes after the 2-byte record header); ok is false when it is not one.
func sslv2ServerKinds(body []byte) (kinds []uint32, ok bool) {
	// type(1)=4, session_id_hit(1), certificate_type(1), version(2), certificate_length(2),
	// cipher_specs_length(2), connection_id_length(2), then the three fields.
	if len(body) < 11 || body[0] != 4 {
		return nil, false
	}
	certLen := int(body[5])<<8 | int(body[6])
	specLen := int(body[7])<<8 | int(body[8])
	connLen := int(body[9])<<8 | int(body[10])
	if specLen%3 != 0 || 11+certLen+specLen+connLen > len(body) {
		return nil, false
	}
	specs := body[11+certLen : 11+certLen+specLen]
	for i := 0; i+3 <= len(specs); i += 3 {
		kinds = append(kinds, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
	}
	return kinds, true
}
