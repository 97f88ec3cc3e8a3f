package broker

import (
	"encoding/json"

	"github.com/chaperone-dev/chaperone/models"
)

// Message types.
const (
	TypeHold    = "hold"    // shim → panel: a held command; the shim waits
	TypeRan     = "ran"     // shim → panel: a low/medium command ran; no answer
	TypeVerdict = "verdict" // panel → shim: the answer to a hold
)

// Message is one line of the protocol.
type Message struct {
	Type    string              `json:"type"`
	Hold    *models.HoldRequest `json:"hold,omitempty"`
	Event   *models.Event       `json:"event,omitempty"`
	Verdict *models.Verdict     `json:"verdict,omitempty"`
}

// maxLine bounds one protocol line (facts of a long script can be large).
const maxLine = 8 << 20

// heldWire is a hold as the panel reads it. What the shim claims about its
// command (inner command, rating, facts) is kept raw: it is never shown or
// remembered, and a claim that does not decode is no claim, so a hold with
// a garbled claim is still shown (rated by the broker itself).
type heldWire struct {
	models.HoldRequest
	Inner  json.RawMessage `json:"inner,omitempty"`
	Rating json.RawMessage `json:"rating,omitempty"`
	Facts  json.RawMessage `json:"facts,omitempty"`
}

// inMessage is a Message as the panel reads it.
type inMessage struct {
	Type  string        `json:"type"`
	Hold  *heldWire     `json:"hold,omitempty"`
	Event *models.Event `json:"event,omitempty"`
}
