// Package broker is the channel between shims and the approval panel: a
// unix socket owned by the panel (`chaperone tui`) and a small JSON-lines
// protocol over it.
//
// The socket lives in $XDG_RUNTIME_DIR/chaperone/broker.sock, or in a
// private chaperone-<uid> directory in the temp dir when XDG_RUNTIME_DIR is
// unset. The directory is 0700 and the socket 0600; both sides refuse a
// directory that is not private to the user, and both check the peer's
// user id.
//
// Every line is one JSON object, a Message. A shim sends one of:
//
//	{"type":"hold","hold":{...models.HoldRequest...}}   then waits
//	{"type":"ran","event":{...models.Event...}}         and hangs up
//
// and the panel answers a hold with
//
//	{"type":"verdict","verdict":{...models.Verdict...}}
//
// There is deliberately no message by which a client can approve anything:
// verdicts flow only from the panel process, which decides on a keypress.
// A shim that hangs up (killed, or timed out) withdraws its request.
package broker
