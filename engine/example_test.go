package engine_test

import (
	"context"
	"fmt"

	"github.com/chaperone-dev/chaperone/engine"
)

// The approval panel's broker judges a held command from its text alone:
// here Claude Code's wrapper around a read of a private key.
func ExampleEngine_Judge() {
	e, err := engine.New(nil, "") // the built-in rules; the panel passes config.Load()'s
	if err != nil {
		fmt.Println(err)
		return
	}
	env := map[string]string{"HOME": "/home/u"}
	j := e.Judge(context.Background(), engine.Command{
		Text:   "source /home/u/.claude/shell-snapshots/snapshot-bash-1-x.sh 2>/dev/null || true && eval 'cat ~/.ssh/id_rsa' < /dev/null && pwd -P >| /tmp/claude-1-cwd",
		Agent:  "claude",
		Cwd:    "/home/u/proj",
		Getenv: func(k string) string { return env[k] },
	})
	fmt.Println(j.Wrapper.Kind, "carries", j.Inner)
	fmt.Println(j.Rating.Risk, j.Rating.Findings[0].Rule)
	// Output:
	// claude-eval carries cat ~/.ssh/id_rsa
	// high secrets.read
}
