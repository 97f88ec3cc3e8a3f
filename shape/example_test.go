package shape_test

import (
	"fmt"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/shape"
)

func words(ws ...string) []models.Word {
	out := make([]models.Word, len(ws))
	for i, w := range ws {
		out[i] = models.Word{Lit: w}
	}
	return out
}

// The shape keeps the program, up to two subcommand-like words after it
// and the sorted flags; paths, values and what follows the first flag or
// path go, so the first two commands share a shape and the third, with
// another flag, does not.
func ExampleOf() {
	for _, argv := range [][]string{
		{"git", "push", "origin", "--force", "feature/login"},
		{"git", "push", "origin", "feature/other", "--force"},
		{"git", "push", "origin", "--force", "--tags"},
	} {
		s, _ := shape.Of(&models.Facts{Commands: []models.Command{{Argv: words(argv...), PipeFrom: -1}}})
		fmt.Printf("%q\n", s)
	}
	// Output:
	// ["git push origin --force"]
	// ["git push origin --force"]
	// ["git push origin --force --tags"]
}
