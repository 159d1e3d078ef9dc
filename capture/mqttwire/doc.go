// Package mqttwire dissects the start of a cleartext MQTT session: the client's CONNECT
// (MQTT 3.1 "MQIsdp" level 3, 3.1.1 level 4 and 5 level 5) and the broker's CONNACK.
// It emits one observe.MQTTConnect per CONNECT and, when the CONNECT carries a password,
// an observe.Credential of Kind "mqtt-password" whose User is the CONNECT user name.
//
// Invariants:
//   - The password goes only to ctx.Secrets.Hide; it is never copied elsewhere.
//   - A CONNECT is buffered until complete, but only when its remaining length is at most
//     MaxConnect; a larger one is counted ("mqtt_connect_too_large") and the direction is
//     abandoned. The buffer grows with the bytes that arrive, never with a length field.
//   - Every length inside the packet (strings, MQTT 5 property blocks, the will) is checked
//     against the packet's own remaining length; one that lies makes the packet "malformed"
//     (counted as "mqtt_malformed") and nothing of it is emitted.
//   - MQTT has no resynchronisation point: a Gap before the CONNECT (or CONNACK) is complete
//     ends the parsing of that direction.
//   - Done is true once the CONNECT has been handled and the CONNACK read (or either
//     direction abandoned): the rest of the session (PUBLISH payloads) is of no interest.
//     The CONNACK return code is counted ("mqtt_connack_refused") but not reported.
package mqttwire
