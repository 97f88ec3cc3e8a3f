package shim

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args               string // words separated by |
		mode               Mode
		script, file, rest string
		flags              string
		login, interactive bool
	}{
		{args: "-c|ls", mode: ModeCommand, script: "ls"},
		{args: "-lc|ls", mode: ModeCommand, script: "ls", flags: "-l", login: true},
		{args: "-l|-c|ls", mode: ModeCommand, script: "ls", flags: "-l", login: true},
		{args: "-c|-l|ls", mode: ModeCommand, script: "ls", flags: "-l", login: true},
		{args: "--login|-c|ls", mode: ModeCommand, script: "ls", flags: "--login", login: true},
		{args: "-login|-c|ls", mode: ModeCommand, script: "ls", flags: "--login", login: true},
		{args: "-i|-c|ls", mode: ModeCommand, script: "ls", flags: "-i", interactive: true},
		{args: "-ilc|ls", mode: ModeCommand, script: "ls", flags: "-i -l", login: true, interactive: true},
		{args: "-c|echo $0 $1|a0|a1", mode: ModeCommand, script: "echo $0 $1", rest: "a0 a1"},
		{args: "-c|ls|-x", mode: ModeCommand, script: "ls", rest: "-x"},
		{args: "-euo|pipefail|-c|ls", mode: ModeCommand, script: "ls", flags: "-e -u -o pipefail"},
		{args: "+o|braceexpand|-O|extglob|-c|ls", mode: ModeCommand, script: "ls", flags: "+o braceexpand -O extglob"},
		{args: "--noprofile|--norc|-c|ls", mode: ModeCommand, script: "ls", flags: "--noprofile --norc"},
		{args: "--rcfile|/x|-i|-c|ls", mode: ModeCommand, script: "ls", flags: "--rcfile /x -i", interactive: true},
		{args: "-n|-c|ls", mode: ModeCommand, script: "ls", flags: "-n"},
		{args: "-c|--|ls", mode: ModeCommand, script: "ls"},
		{args: "", mode: ModeStdin},
		{args: "-s|a|b", mode: ModeStdin, rest: "a b"},
		{args: "-e", mode: ModeStdin, flags: "-e"},
		{args: "script.sh|a", mode: ModeFile, file: "script.sh", rest: "a"},
		{args: "--|-c", mode: ModeFile, file: "-c"},
		{args: "-|x", mode: ModeFile, file: "x"},
		{args: "--version", mode: ModeInfo, flags: "--version"},
		{args: "--version|-c|rm -rf ~", mode: ModeInfo, flags: "--version"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			var args []string
			if tt.args != "" {
				args = strings.Split(tt.args, "|")
			}
			inv, err := Parse(args)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Mode != tt.mode || inv.Script != tt.script || inv.File != tt.file ||
				strings.Join(inv.Args, " ") != tt.rest || strings.Join(inv.Flags, " ") != tt.flags ||
				inv.Login != tt.login || inv.Interactive != tt.interactive {
				t.Errorf("got %+v", inv)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, args := range []string{"-Z", "-c", "--bogus|-c|ls", "-l|--norc|-c|ls", "-o", "--rcfile", "-opipefail|-c|ls"} {
		_, err := Parse(strings.Split(args, "|"))
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: got %v, want a usage error", args, err)
		}
	}
}
