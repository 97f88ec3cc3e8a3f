package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// The user's own commands (sandbox exec) carry no rating: they count as
// commands, never as high, and replay says what they were.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	now := time.Now()
	user := models.Event{Time: now, Session: "s", Decision: models.Allow, DecidedBy: models.ByUser,
		Rating: models.Rating{Source: models.ByUser}}
	rated := models.Event{Time: now, Session: "s", Decision: models.Allow, DecidedBy: models.ByRules,
		Rating: models.Rating{Risk: models.Low}}
	if !UserCommand(user) || UserCommand(rated) {
		t.Fatal("UserCommand tells the user's command from a rated one wrongly")
	}
	s := Sessions([]models.Event{user, rated})
	if len(s) != 1 || s[0].Commands != 2 || s[0].ByRisk[models.High] != 0 || s[0].ByRisk[models.Low] != 1 ||
		s[0].ByDecision[models.Allow] != 2 {
		t.Errorf("Sessions = %+v", s)
	}
	if l := DecisionLine(user); strings.Contains(l, "high") || !strings.Contains(l, "user's own command") {
		t.Errorf("DecisionLine = %q", l)
	}
}
