package rater

import (
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// A model that gave no answer is reported with the reason, never as a
// risk of "unknown".
func TestWriteReportModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model     *models.ModelAnswer
		want, not string
	}{
		{&models.ModelAnswer{Model: "m", Error: "ollama server unreachable at 127.0.0.1:1 (connection refused)"},
			"- model m: no answer: ollama server unreachable at 127.0.0.1:1 (connection refused); rated by the rules alone", "unknown"},
		{&models.ModelAnswer{Model: "m", Risk: models.High, Reason: "sends the key"}, "- model m: high sends the key", "no answer"},
		{nil, "", "model"},
	}
	for _, tt := range tests {
		var b strings.Builder
		r := models.Rating{Risk: models.Medium, Undecided: true, Model: tt.model}
		if err := WriteReport(&b, "frobnicate", r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), tt.not) {
			t.Errorf("report:\n%s\nwant %q, not %q", b.String(), tt.want, tt.not)
		}
	}
}
