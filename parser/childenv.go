package parser

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/expand"

	"github.com/chaperone-dev/chaperone/models"
)

// A shell that another process runs (bash -c CODE, a script, sh -c run by
// sed, awk, git or watch) sees none of this shell's variables but those
// in its environment: the ones exported (export, declare -x, set -a, and
// those the environment gave this shell, which stay exported when
// assigned) and the assignments before the command that starts it
// (x=1 bash -c …, env x=1 bash -c …). Where the walker follows such code
// it swaps in those variables (childVars), so that what evaluated.go
// follows by a variable's value ($((x)), ${x@P}) is followed there too,
// and what the child assigns does not leak back.

// cmdEnv is what a command found inside wrappers gets in its environment
// from those wrappers: the assignments they carry (x=1 env …), or apart
// when it does not get this shell's environment at all (env -i, a
// container).
type cmdEnv struct {
	apart   bool
	assigns []models.Assign
}

// carry records what Commands[inner], run by the wrapper at outer (label
// says which), gets in its environment from it.
func (w *walker) carry(outer, inner int, label string) {
	if w.envs == nil {
		w.envs = map[int]cmdEnv{}
	}
	if containerLabel(label) {
		w.envs[inner] = cmdEnv{apart: true}
		return
	}
	w.envs[inner] = w.envOf(outer)
}

// envOf is what the command at idx has in its environment besides this
// shell's exported variables: its wrappers' assignments and its own.
func (w *walker) envOf(idx int) cmdEnv {
	e := w.envs[idx]
	own := w.facts.Commands[idx].Assigns
	if n, ok := w.cleared[idx]; ok {
		// env -i: the environment starts empty, then env's own
		// assignments after the -i.
		e = cmdEnv{apart: true}
		own = own[min(n, len(own)):]
	}
	e.assigns = append(e.assigns[:len(e.assigns):len(e.assigns)], own...)
	return e
}

// clearEnv notes that the env command at idx starts what it runs with an
// empty environment (env -i): its assignments so far do not count.
func (w *walker) clearEnv(idx int) {
	if w.cleared == nil {
		w.cleared = map[int]int{}
	}
	w.cleared[idx] = len(w.facts.Commands[idx].Assigns)
}

// containerLabel reports whether a wrapper label runs its command in a
// container, whose environment is not this shell's.
func containerLabel(label string) bool {
	name, _, _ := strings.Cut(label, " ")
	switch name {
	case "docker", "podman", "nerdctl", "kubectl", "oc", "lxc", "incus":
		return true
	}
	return false
}

// varState is the variables the walker knows, swapped out while it walks
// the code of a child shell.
type varState struct {
	vars      map[string]string
	ambiguous map[string]bool
	arrays    map[string]expand.Variable
	attrs     map[string]*varAttrs
	exported  map[string]bool
	allExport bool
	sourced   bool
}

// childVars makes the variables the walker knows those of a child shell
// whose environment is e (apart: only what e assigns) and returns the
// ones it replaced, for restoreVars.
func (w *walker) childVars(e cmdEnv) varState {
	w.initVars()
	saved := varState{w.vars, w.ambiguous, w.arrays, w.attrs, w.exported, w.allExport, w.sourced}
	vars, amb := map[string]string{}, map[string]bool{}
	if !e.apart {
		for n, v := range saved.vars {
			if w.exportedVar(n) && !saved.ambiguous[n] {
				vars[n] = v
			}
		}
		for n := range saved.ambiguous {
			if w.exportedVar(n) {
				amb[n] = true
			}
		}
		for n, a := range saved.attrs {
			if a.ref && w.exportedVar(n) {
				// What an exported name reference passes is not
				// followed.
				amb[n] = true
			}
		}
		for n := range saved.arrays {
			if w.exportedVar(n) {
				// bash exports no arrays; an environment variable of
				// that name may still be there.
				amb[n] = true
			}
		}
	}
	for _, a := range e.assigns {
		if a.Value.Dynamic || len(a.Value.Lit) > maxValue {
			amb[a.Name] = true
			delete(vars, a.Name)
			continue
		}
		vars[a.Name] = a.Value.Lit
		delete(amb, a.Name)
	}
	// What the child got from its environment it exports in turn.
	exported := make(map[string]bool, len(vars)+len(amb))
	for n := range vars {
		exported[n] = true
	}
	for n := range amb {
		exported[n] = true
	}
	w.vars, w.ambiguous, w.arrays, w.attrs = vars, amb, nil, nil
	w.exported, w.allExport = exported, false
	if e.apart {
		// Nothing of this shell's environment is there.
		w.sourced = false
	}
	return saved
}

// restoreVars puts back the variables childVars replaced: what the child
// assigned stays in the child.
func (w *walker) restoreVars(v varState) {
	w.vars, w.ambiguous, w.arrays, w.attrs = v.vars, v.ambiguous, v.arrays, v.attrs
	w.exported, w.allExport, w.sourced = v.exported, v.allExport, v.sourced
}

// exportedVar reports whether a child process may see the variable name
// of this shell: it was exported, or the environment may have given it to
// this shell (then an assignment changes what children see too): one
// listed in Env, one commonly set, or a name in capitals, as environment
// variables are named.
func (w *walker) exportedVar(name string) bool {
	if w.allExport || w.exported[name] {
		return true
	}
	switch name {
	case "HOME", "PWD", "OLDPWD":
		return true
	}
	if slices.Contains(envNames, name) {
		return true
	}
	for _, kv := range w.env.Vars {
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			return true
		}
	}
	return upperName(name)
}

// upperName reports whether name has a capital letter and no small one.
func upperName(name string) bool {
	upper := false
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			return false
		case r >= 'A' && r <= 'Z':
			upper = true
		}
	}
	return upper
}

// export marks name as exported (on true) or no longer (off): an
// unexport counts only where it surely runs.
func (w *walker) export(name string, on bool) {
	if on {
		if w.exported == nil {
			w.exported = map[string]bool{}
		}
		w.exported[name] = true
		return
	}
	if w.sureAttrs() {
		delete(w.exported, name)
	}
}

// setAllExport notes set -a (set -o allexport): every variable is
// exported from here on.
func (w *walker) setAllExport(argv []models.Word) {
	for i, a := range argv[1:] {
		switch {
		case a.Lit == "allexport" && i > 0 && argv[i].Lit == "-o":
			w.allExport = true
		case strings.HasPrefix(a.Lit, "-") && !strings.HasPrefix(a.Lit, "--") && strings.Contains(a.Lit, "a"):
			w.allExport = true
		}
	}
}
