package audit

import "strconv"

// MarkKind is one of the OSC 133 shell-integration marks ("FinalTerm"
// semantic prompts) by which terminals and asciinema tell a prompt, the
// command typed at it and the command's output apart.
type MarkKind byte

// The marks, in the order a shell writes them for each command.
const (
	PromptStart  MarkKind = 'A' // a prompt begins
	CommandStart MarkKind = 'B' // the prompt ends; the command's text begins
	OutputStart  MarkKind = 'C' // the command was entered; its output begins
	CommandEnd   MarkKind = 'D' // the command is done; carries its exit status
)

// Mark returns the OSC 133 mark of kind: ESC ] 133 ; KIND BEL. For
// CommandEnd a non-nil status is added (ESC ] 133 ; D ; 2 BEL); it is
// left out when nil (status unknown) and for the other kinds.
func Mark(kind MarkKind, status *int) string {
	s := "\x1b]133;" + string(rune(kind))
	if kind == CommandEnd && status != nil {
		s += ";" + strconv.Itoa(*status)
	}
	return s + "\a"
}
