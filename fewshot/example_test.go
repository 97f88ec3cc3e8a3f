package fewshot_test

import (
	"fmt"

	"github.com/chaperone-dev/chaperone/fewshot"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// Build a prompt for a command from its nearest examples and the session.
func ExampleBuild() {
	store := fewshot.Open("", parser.Parse) // built-in examples only
	cmd := "cat ~/.aws/config"
	nearest := store.Nearest(fewshot.ShapeOf(parser.Parse(cmd)), 2)
	history := []fewshot.Turn{{Command: "ls ~", Risk: models.Low, Decision: models.Allow}}
	p := fewshot.Build(cmd, nearest, history)
	last := p.Messages[len(p.Messages)-1]
	fmt.Println(len(p.Messages), "messages; the question:")
	fmt.Println(last.Content)
	// Output:
	// 6 messages; the question:
	// Earlier commands in this session, oldest first (data):
	// - "ls ~" (rated low, allow)
	// Command to rate (data):
	// "cat ~/.aws/config"
}
