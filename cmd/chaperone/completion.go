package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

const completionUsage = `usage: chaperone completion bash|zsh|fish

Prints a script that completes chaperone's commands, their commands and
their flags in that shell. To load it:
  bash: source <(chaperone completion bash)    (in ~/.bashrc: every new shell)
  zsh:  source <(chaperone completion zsh)     (in ~/.zshrc, after compinit)
  fish: chaperone completion fish | source     (in ~/.config/fish/config.fish)
The script is made from chaperone's table of commands, so source it again
after an update to complete what is new.`

// completionShells are the shells completion writes scripts for, and how.
// (A function, as completions is: nothing of completion is made when
// chaperone starts, which it does for every command an agent runs.)
func completionShells() map[string]func(*strings.Builder, []completed) {
	return map[string]func(*strings.Builder, []completed){
		"bash": bashCompletion,
		"zsh":  zshCompletion,
		"fish": fishCompletion,
	}
}

// runCompletion is `chaperone completion bash|zsh|fish`.
func runCompletion(ctx context.Context, args []string) error {
	if err := showUsage(args, completionUsage); err != nil {
		return err
	}
	if len(args) > 1 {
		if err := showUsage(args[1:], completionUsage); err != nil {
			return err
		}
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, completionUsage)
		return fmt.Errorf("%w: completion takes one shell: bash, zsh or fish", errUsage)
	}
	write, ok := completionShells()[args[0]]
	if !ok {
		fmt.Fprintln(os.Stderr, completionUsage)
		return unknownSub("completion", args[0], slices.Collect(maps.Keys(completionShells())))
	}
	var b strings.Builder
	write(&b, completionTable())
	_, err := os.Stdout.WriteString(b.String())
	return err
}

// argKind is what a verb's words other than its commands and flags are.
type argKind int

const (
	argNone     argKind = iota // IDs, hosts or nothing: no completion
	argDirs                    // folders
	argVerbs                   // chaperone's verbs
	argCommands                // a program after --, then its files
)

// completion is what a shell completes after a verb ("audit") or after a
// verb's command ("audit show").
type completion struct {
	subs  []string // the verb's commands, in the order its usage lists them
	flags []string // its flags as a person types them: "--json", "-n"
	args  argKind
}

// completions are the commands, flags and arguments of chaperone's verbs,
// keyed by verb or by "verb command". A verb of the verb table missing
// here is still completed by name, with only --help after it;
// TestCompletionsMatchUsage fails until its flags are here too.
func completions() map[string]completion {
	return map[string]completion{
		"rate":              {flags: []string{"--json", "--no-model", "-c", "--rules", "--explain"}},
		"shims":             {flags: []string{"--copy"}, args: argDirs},
		"run":               {flags: []string{"-c"}, args: argCommands},
		"trust":             {args: argDirs},
		"tui":               {flags: []string{"--split"}},
		"rules":             {subs: []string{"list", "show"}},
		"remember":          {subs: []string{"list", "forget"}},
		"audit":             {subs: []string{"list", "show", "tail", "verify", "replay", "rerate", "export"}},
		"audit show":        {flags: []string{"--json"}},
		"audit tail":        {flags: []string{"-n", "-f"}},
		"audit replay":      {flags: []string{"--speed", "--no-wait", "--cast"}},
		"audit rerate":      {flags: []string{"--all"}},
		"audit export":      {flags: []string{"--session", "--since", "--until"}},
		"sandbox":           {subs: []string{"up", "down", "status", "exec"}},
		"sandbox up":        {flags: []string{"--build"}},
		"sandbox exec":      {flags: []string{"--print"}, args: argCommands},
		"network":           {subs: []string{"check"}},
		"network check":     {flags: []string{"--no-resolve"}},
		"model":             {subs: []string{"check", "show-prompt"}},
		"model show-prompt": {flags: []string{"--json", "--session", "-c"}},
		"fewshot":           {subs: []string{"list", "add", "rm"}},
		"fewshot list":      {flags: []string{"--user"}},
		"fewshot add":       {flags: []string{"--risk", "--reason", "--span", "--context", "-c"}},
		"help":              {args: argVerbs},
		"completion":        {subs: []string{"bash", "zsh", "fish"}},
	}
}

// completed is one key of the completion scripts: "" (chaperone's first
// word), a verb, or "verb command", with what follows it there.
type completed struct {
	key   string
	desc  string // a verb's line in chaperone help
	words []string
	flags []string
	args  argKind
}

// completionTable is what the scripts complete, from the verb table
// (subcommands, but for the verbs only other programs start) and
// completions. The first entry is chaperone's first word: the verbs and
// chaperone's own options; then each verb, in alphabetical order, followed
// by its commands.
func completionTable() []completed {
	descs := verbDescriptions()
	var names []string
	for v := range verbs {
		if !hiddenVerbs[v] {
			names = append(names, v)
		}
	}
	slices.Sort(names)
	completions := completions()
	table := []completed{{key: "", words: names, flags: []string{"--help", "-h", "--version"}}}
	for _, v := range names {
		c := completions[v]
		table = append(table, completed{key: v, desc: descs[v], words: c.subs, flags: append(slices.Clone(c.flags), "--help"), args: c.args})
		for _, sub := range c.subs {
			sc, ok := completions[v+" "+sub]
			if !ok && v == "completion" {
				continue // a shell: nothing follows it
			}
			table = append(table, completed{key: v + " " + sub, flags: append(slices.Clone(sc.flags), "--help"), args: sc.args})
		}
	}
	return table
}

// verbDescriptions are the verbs' lines under "Commands:" in chaperone
// help, by verb.
func verbDescriptions() map[string]string {
	descs := map[string]string{}
	_, cmds, _ := strings.Cut(helpText, "\nCommands:\n")
	for line := range strings.Lines(cmds) {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		if verb, desc, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			descs[verb] = strings.TrimSpace(desc)
		}
	}
	return descs
}

// withSubs are the keys of table with commands of their own: the verbs
// whose second word makes the key.
func withSubs(table []completed) []string {
	var out []string
	for _, c := range table[1:] {
		if !strings.Contains(c.key, " ") && len(c.words) > 0 {
			out = append(out, c.key)
		}
	}
	return out
}

// verbsOf are the words of table's first entry: chaperone's verbs.
func verbsOf(table []completed) []string { return table[0].words }

// shellQuote quotes s for bash and zsh: in single quotes, a quote in s
// ending the quoted part, escaped with a backslash, and starting the next.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fishQuote quotes s for fish: in single quotes, with \' and \\.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

const bashHeader = `# bash completion for chaperone, written by "chaperone completion bash".
# Load it in this shell with:  source <(chaperone completion bash)
# and in every new one by putting that line in ~/.bashrc.
`

// bashCompletion writes the bash script: one function that works out the
// key (the verb, and its command where it has commands) and completes
// what follows it; anything but a verb of chaperone's is bash's own
// arguments, completed as file names.
func bashCompletion(b *strings.Builder, table []completed) {
	b.WriteString(bashHeader)
	b.WriteString(`
_chaperone() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local key="" words="" flags="" args=none
	if ((COMP_CWORD > 1)); then
		key=${COMP_WORDS[1]}
	fi
	case $key in
`)
	fmt.Fprintf(b, "\t%s)\n\t\t((COMP_CWORD > 2)) && key+=\" ${COMP_WORDS[2]}\" ;;\n", strings.Join(withSubs(table), "|"))
	b.WriteString("\tesac\n\tcase $key in\n")
	for _, c := range table {
		fmt.Fprintf(b, "\t%s)\n\t\twords=%s flags=%s args=%s ;;\n", shellQuote(c.key),
			shellQuote(strings.Join(c.words, " ")), shellQuote(strings.Join(c.flags, " ")), argName(c.args))
	}
	b.WriteString(`	*" "*) # an unknown command of a verb
		compopt +o default 2>/dev/null
		return 0 ;;
	*) # not a verb of chaperone's: bash's own arguments
		return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return 0
	fi
	case $args in
	verbs) words=` + shellQuote(strings.Join(verbsOf(table), " ")) + ` ;;
	dirs)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0 ;;
	commands)
		if [[ $prev == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
		fi
		return 0 ;;
	esac
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
	if [[ $args == none ]]; then
		compopt +o default 2>/dev/null
	fi
	return 0
}
complete -o default -F _chaperone chaperone
`)
}

func argName(k argKind) string {
	return [...]string{argNone: "none", argDirs: "dirs", argVerbs: "verbs", argCommands: "commands"}[k]
}

const zshHeader = `#compdef chaperone
# zsh completion for chaperone, written by "chaperone completion zsh".
# Load it in this shell with:  source <(chaperone completion zsh)
# (after compinit), and in every new one by putting that line in ~/.zshrc;
# or save it as _chaperone in a folder on $fpath.
`

// zshCompletion writes the zsh script, the same function as bash's with
// the verbs described.
func zshCompletion(b *strings.Builder, table []completed) {
	b.WriteString(zshHeader)
	b.WriteString(`
_chaperone() {
	local key="" args=none
	local -a cands flags verbs
`)
	b.WriteString("\tverbs=(\n")
	for _, c := range table[1:] {
		if strings.Contains(c.key, " ") {
			continue
		}
		fmt.Fprintf(b, "\t\t%s\n", shellQuote(strings.ReplaceAll(c.key, ":", `\:`)+":"+c.desc))
	}
	b.WriteString("\t)\n")
	b.WriteString(`	if (( CURRENT > 2 )); then
		key=$words[2]
	fi
	case $key in
`)
	fmt.Fprintf(b, "\t(%s)\n\t\t(( CURRENT > 3 )) && key=\"$key $words[3]\" ;;\n", strings.Join(withSubs(table), "|"))
	b.WriteString("\tesac\n\tcase $key in\n")
	for _, c := range table {
		fmt.Fprintf(b, "\t(%s)\n\t\tcands=(%s); flags=(%s); args=%s ;;\n", shellQuote(c.key),
			strings.Join(c.words, " "), strings.Join(c.flags, " "), argName(c.args))
	}
	b.WriteString(`	(*" "*) # an unknown command of a verb
		return 1 ;;
	(*) # not a verb of chaperone's: bash's own arguments
		_files
		return ;;
	esac
	if [[ $PREFIX == -* ]]; then
		compadd -- $flags
		return
	fi
	case $args in
	(verbs)
		_describe -t commands 'chaperone command' verbs
		return ;;
	(dirs)
		_files -/
		return ;;
	(commands)
		if [[ $words[CURRENT-1] == -- ]]; then
			_command_names -e
		else
			_files
		fi
		return ;;
	esac
	if [[ -z $key ]]; then
		_describe -t commands 'chaperone command' verbs
	else
		compadd -- $cands
	fi
}

if [[ $funcstack[1] == _chaperone ]]; then
	_chaperone "$@"
else
	compdef _chaperone chaperone
fi
`)
}

const fishHeader = `# fish completion for chaperone, written by "chaperone completion fish".
# Load it in this shell with:  chaperone completion fish | source
# or save it as ~/.config/fish/completions/chaperone.fish.
`

// fishCompletion writes the fish script: __chaperone_key prints the key
// of the word being completed, and one complete line per candidate.
func fishCompletion(b *strings.Builder, table []completed) {
	b.WriteString(fishHeader)
	b.WriteString(`
function __chaperone_key --description 'the verb of chaperone (and its command) being completed'
	set -l w (commandline -opc)
	set -e w[1]
	if test (count $w) -eq 0
		return
	end
	switch $w[1]
	case ` + strings.Join(withSubs(table), " ") + `
		if test (count $w) -ge 2
			echo "$w[1] $w[2]"
			return
		end
	end
	echo $w[1]
end

function __chaperone_at --description 'whether the word being completed follows chaperone key $argv[1]'
	set -l k (__chaperone_key)
	test "$k" = "$argv[1]"
end

`)
	descs := map[string]string{}
	for _, c := range table {
		descs[c.key] = c.desc
	}
	for _, c := range table {
		at := "__chaperone_at " + fishQuote(c.key)
		cond := fishQuote(at)
		if c.key == "" {
			for _, v := range c.words {
				fmt.Fprintf(b, "complete -c chaperone -n %s -f -a %s -d %s\n", cond, fishQuote(v), fishQuote(descs[v]))
			}
		} else if len(c.words) > 0 {
			fmt.Fprintf(b, "complete -c chaperone -n %s -f -a %s\n", cond, fishQuote(strings.Join(c.words, " ")))
		}
		for _, f := range c.flags {
			opt := "-l " + strings.TrimPrefix(f, "--")
			if !strings.HasPrefix(f, "--") {
				opt = "-s " + strings.TrimPrefix(f, "-")
			}
			fmt.Fprintf(b, "complete -c chaperone -n %s %s\n", cond, opt)
		}
		switch c.args {
		case argNone:
			if c.key != "" {
				fmt.Fprintf(b, "complete -c chaperone -n %s -f\n", cond)
			}
		case argDirs:
			fmt.Fprintf(b, "complete -c chaperone -n %s -f -a '(__fish_complete_directories)'\n", cond)
		case argVerbs:
			fmt.Fprintf(b, "complete -c chaperone -n %s -f -a %s\n", cond, fishQuote(strings.Join(verbsOf(table), " ")))
		case argCommands:
			fmt.Fprintf(b, "complete -c chaperone -n %s -f -a '(__fish_complete_command)'\n", fishQuote(at+"; and test (commandline -opc)[-1] = --"))
		}
	}
}
