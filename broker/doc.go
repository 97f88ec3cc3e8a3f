// Package broker is the channel between shims and the approval panel: a
// unix socket owned by the panel (`chaperone tui`) and a small JSON-lines
// protocol over it.
//
// The socket lives in $XDG_RUNTIME_DIR/chaperone/broker.sock, or in a
// private chaperone-<uid> directory in the temp dir when XDG_RUNTIME_DIR is
// unset. The directory is 0700 and the socket 0600; both sides refuse a
// directory that is not private to the user, and both check that the peer
// is a process of the same user in the same mount, PID and user
// namespaces (internal/peercred): a sandboxed command that can reach the
// socket file is hung up on without a word.
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
//
// Nor does the panel take a shim's word for what it holds: the broker
// derives the inner command, the rating and the facts from the hold's
// command text itself, with package engine (the same wrapper recognition
// and rules as the shim), and that is all the panel shows and remembers.
// What the shim claimed survives only as a Claim, shown as the shim's,
// when it claims a higher risk than the broker finds.
package broker
