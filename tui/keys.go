package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the panel's key bindings. The help footer is drawn from it, so
// a binding changed here changes what the person is told.
type KeyMap struct {
	Approve  key.Binding
	Deny     key.Binding
	DenyNote key.Binding
	Remember key.Binding
	Wider    key.Binding
	Example  key.Binding
	Details  key.Binding
	Up       key.Binding
	Down     key.Binding
	Feed     key.Binding
	Help     key.Binding
	Quit     key.Binding
	// In the note and details views.
	Send key.Binding
	Back key.Binding
}

// DefaultKeys returns the bindings described in the README.
func DefaultKeys() KeyMap {
	return KeyMap{
		Approve:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "approve once")),
		Deny:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "deny")),
		DenyNote: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "deny + note")),
		Remember: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "approve, remember it")),
		Wider:    key.NewBinding(key.WithKeys("W"), key.WithHelp("W", "wider")),
		Example:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "keep the decision as a model example")),
		Details:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next")),
		Feed:     key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "pause/resume feed")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// ShortHelp is the one-line footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Approve, k.Deny, k.DenyNote, k.Remember, k.Wider, k.Details, k.Help}
}

// FullHelp is the footer after `?`.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Approve, k.Deny, k.DenyNote, k.Remember, k.Wider},
		{k.Example, k.Details, k.Up, k.Down},
		{k.Feed, k.Help, k.Quit},
	}
}

// noteHelp is the footer while a note is typed.
type noteHelp struct{ k KeyMap }

func (n noteHelp) ShortHelp() []key.Binding  { return []key.Binding{n.k.Send, n.k.Back} }
func (n noteHelp) FullHelp() [][]key.Binding { return [][]key.Binding{n.ShortHelp()} }

// detailsHelp is the footer of the details view.
type detailsHelp struct{ k KeyMap }

func (d detailsHelp) ShortHelp() []key.Binding {
	return []key.Binding{d.k.Back, d.k.Approve, d.k.Deny, d.k.DenyNote, d.k.Remember, d.k.Wider}
}
func (d detailsHelp) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }
