package parser

import (
	"sort"
	"strconv"
	"strings"
	"unicode"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/models"
)

// varAttrs are the declare attributes of a variable that change what it
// holds: a case conversion (-l, -u, -c), associative (-A), integer (-i),
// readonly (-r) and name reference (-n). '?' means the attribute may or
// may not be set (declared conditionally, in a function, or by flags
// built at run time); what depends on it is then unknown.
type varAttrs struct {
	caseMod byte   // 'l', 'u', 'c', '?' or 0
	assoc   byte   // 'A', '?' or 0
	ro      byte   // 'r', '?' or 0
	integer bool   // may have -i
	ref     bool   // may be a name reference
	target  string // the variable it refers to, when ref and known
}

// maxRefs bounds how many name references are followed.
const maxRefs = 8

func (w *walker) attr(name string) *varAttrs {
	if w.attrs == nil {
		w.attrs = map[string]*varAttrs{}
	}
	a := w.attrs[name]
	if a == nil {
		a = &varAttrs{}
		w.attrs[name] = a
	}
	return a
}

func (w *walker) initVars() {
	if w.vars == nil {
		w.vars, w.ambiguous = map[string]string{}, map[string]bool{}
	}
}

// sureAttrs reports whether attributes declared now certainly hold
// afterwards: not conditional, and not local to a function.
func (w *walker) sureAttrs() bool { return w.cond == 0 && len(w.frames) == 0 }

// assignTarget is the variable an assignment to name assigns: name, or
// what the name reference name refers to. ok is false when that is not
// known.
func (w *walker) assignTarget(name string) (string, bool) {
	for range maxRefs {
		a := w.attrs[name]
		if a == nil || !a.ref {
			return name, true
		}
		if a.target == "" || strings.IndexByte(a.target, '[') >= 0 {
			// Not known, or an element (assigned as a[1]=…): not
			// followed.
			return "", false
		}
		name = a.target
	}
	return "", false
}

// refBase is the variable a name reference's target names: the array
// of an element (a[1]).
func refBase(target string) string {
	if base, _, ok := splitElement(target); ok {
		return base
	}
	return target
}

// setVar records an assignment of the string v to name.
func (w *walker) setVar(name string, v models.Word) {
	w.initVars()
	a := w.attrs[name]
	if _, arr := w.arrays[name]; arr || a != nil && a.assoc != 0 {
		// name=x on an array sets its element 0 (or key "0").
		w.unknownVar(name)
		return
	}
	if w.cond > 0 || v.Dynamic || len(v.Lit) > maxValue {
		w.ambiguous[name] = true
		return
	}
	lit := v.Lit
	if a != nil {
		if a.caseMod == '?' || a.integer && !isDecimal(lit) {
			w.unknownVar(name)
			return
		}
		lit = applyCase(a.caseMod, lit)
	}
	w.vars[name] = lit
	delete(w.ambiguous, name)
}

// setArray records an assignment of the array v to name.
func (w *walker) setArray(name string, v expand.Variable) {
	w.initVars()
	if w.cond > 0 {
		w.ambiguous[name] = true
		return
	}
	if w.arrays == nil {
		w.arrays = map[string]expand.Variable{}
	}
	w.arrays[name] = v
	delete(w.vars, name)
	delete(w.ambiguous, name)
}

// setAssign records the assignment a (name=value, name+=value or
// name=(elements…)) as setVar does, through name references and with
// the attributes of the variable assigned.
func (s *scope) setAssign(a *syntax.Assign, as models.Assign) {
	w := s.w
	name, ok := w.assignTarget(as.Name)
	if !ok {
		// Through a name reference to a variable not known (all may
		// change) or to an element (its array changes).
		w.unknownVar(as.Name)
		return
	}
	at := w.attrs[name]
	if at != nil && at.ro != 0 {
		// Assigning a readonly variable fails and leaves it as it was.
		if at.ro == '?' {
			w.unknownVar(name)
		}
		return
	}
	switch {
	case a.Array != nil:
		if a.Append || at != nil && (at.integer || at.caseMod == '?' || at.assoc == '?') {
			w.unknownVar(name)
			return
		}
		var mod byte
		assoc := false
		if at != nil {
			mod, assoc = at.caseMod, at.assoc == 'A'
		}
		v, ok := w.arrayValue(a.Array, assoc, mod)
		if !ok {
			w.unknownVar(name)
			return
		}
		w.setArray(name, v)
	case a.Index != nil:
		w.unknownVar(name)
	case a.Append:
		prev, ok := w.lookup(name)
		if !ok || at != nil && at.integer {
			w.unknownVar(name)
			return
		}
		v := as.Value
		v.Lit = prev + v.Lit
		w.setVar(name, v)
	default:
		w.setVar(name, as.Value)
	}
}

// arrayValue is the array (elements…) assigns, when its elements and
// indices are known: an associative array's keys are strings, an indexed
// array's literal decimal numbers (elements without one follow the one
// before).
func (w *walker) arrayValue(arr *syntax.ArrayExpr, assoc bool, mod byte) (expand.Variable, bool) {
	if assoc {
		m := map[string]string{}
		for _, e := range arr.Elems {
			k, ok := e.Index.(*syntax.Word)
			if !ok || k == nil {
				// ([a+b]=…) or bash 5.1's (key value …) pairs.
				return expand.Variable{}, false
			}
			key, ok := w.expandLiteral(k)
			if !ok {
				return expand.Variable{}, false
			}
			val := ""
			if e.Value != nil {
				if val, ok = w.expandLiteral(e.Value); !ok {
					return expand.Variable{}, false
				}
			}
			m[key] = applyCase(mod, val)
			if len(m) > maxFields {
				return expand.Variable{}, false
			}
		}
		return expand.Variable{Set: true, Kind: expand.Associative, Map: m}, true
	}
	vals := map[int]string{}
	next := 0
	for _, e := range arr.Elems {
		if e.Index != nil {
			k, ok := e.Index.(*syntax.Word)
			if !ok || k == nil {
				return expand.Variable{}, false
			}
			lit := k.Lit()
			if !isDecimal(lit) || len(lit) > 6 {
				// [i], [1+2], [010] (octal): arithmetic not followed.
				return expand.Variable{}, false
			}
			i, _ := strconv.Atoi(lit)
			val := ""
			if e.Value != nil {
				if val, ok = w.expandLiteral(e.Value); !ok {
					return expand.Variable{}, false
				}
			}
			vals[i] = val
			next = i + 1
		} else {
			if e.Value == nil {
				return expand.Variable{}, false
			}
			fs, ok := w.expandFields(e.Value, false)
			if !ok {
				return expand.Variable{}, false
			}
			for _, f := range fs {
				vals[next] = f
				next++
			}
		}
		if len(vals) > maxFields {
			return expand.Variable{}, false
		}
	}
	idx := make([]int, 0, len(vals))
	for i := range vals {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	list := make([]string, len(idx))
	dense := true
	for j, i := range idx {
		list[j] = applyCase(mod, vals[i])
		dense = dense && i == j
	}
	v := expand.Variable{Set: true, Kind: expand.Indexed, List: list}
	if !dense {
		v.Indexes = idx
	}
	return v, true
}

// unknownVar marks name as not statically known from here on; through a
// name reference, what it refers to.
func (w *walker) unknownVar(name string) { w.unknownVarN(name, 0) }

func (w *walker) unknownVarN(name string, depth int) {
	w.initVars()
	w.ambiguous[name] = true
	if a := w.attrs[name]; a != nil && a.ref {
		if a.target == "" || depth >= maxRefs {
			w.invalidateAll()
			return
		}
		w.unknownVarN(refBase(a.target), depth+1)
	}
}

// invalidateAll marks every variable as not known: something may have
// set any of them (eval, source, a name reference to a variable not
// known).
func (w *walker) invalidateAll() {
	w.initVars()
	for n := range w.vars {
		w.ambiguous[n] = true
	}
	for n := range w.arrays {
		w.ambiguous[n] = true
	}
	for _, a := range w.attrs {
		if a.ref {
			a.target = ""
		}
	}
	w.sourced = true
}

// declFlags are the attribute options of a declare, local, typeset,
// readonly or export command: set are the letters given with -, unset
// with +; known is false when an option is built at run time.
type declFlags struct {
	known      bool
	set, unset string
	// variant is the command (declare, export …); unexport is set by
	// export -n.
	variant  string
	unexport bool
}

func (f *declFlags) add(variant string, word *syntax.Word) {
	lit := word.Lit()
	if lit == "" {
		f.known = false
		return
	}
	if lit == "--" || lit[0] != '-' && lit[0] != '+' {
		return
	}
	letters := lit[1:]
	switch variant {
	case "export":
		// export -n unexports, -f names functions.
		f.unexport = f.unexport || strings.Contains(letters, "n")
		return
	case "readonly":
		letters = strings.Map(func(r rune) rune {
			if r == 'a' || r == 'A' {
				return r
			}
			return -1
		}, letters)
	}
	if lit[0] == '-' {
		f.set += letters
	} else {
		f.unset += letters
	}
}

// keepsValue reports whether a declaration without a value leaves the
// variable's value as it was: export x, readonly x, and declare -x x
// outside a function (inside, it declares a local).
func (f declFlags) keepsValue(inFunc bool) bool {
	switch f.variant {
	case "export", "readonly":
		return true
	case "declare", "typeset":
		return !inFunc && f.unset == "" && strings.Trim(f.set, "xr") == ""
	}
	return false
}

func (f declFlags) has(c byte) bool    { return strings.IndexByte(f.set, c) >= 0 }
func (f declFlags) unset1(c byte) bool { return strings.IndexByte(f.unset, c) >= 0 }

// declare records what declare (or local, typeset, readonly, export)
// does to the variable a names: its attributes, then its value.
func (s *scope) declare(a *syntax.Assign, as models.Assign, fl declFlags) {
	w := s.w
	name := as.Name
	if !fl.known {
		w.invalidateAll()
		at := w.attr(name)
		at.caseMod, at.assoc, at.ro, at.integer, at.ref, at.target = '?', '?', '?', true, true, ""
		return
	}
	sure := w.sureAttrs()
	at := w.attr(name)
	if fl.has('n') || fl.unset1('n') {
		// The reference itself is (re)declared, not what it refers to.
		delete(w.vars, name)
		delete(w.arrays, name)
		w.initVars()
		target := ""
		if fl.has('n') && sure && a.Value != nil && a.Array == nil && a.Index == nil {
			if t, ok := w.expandLiteral(a.Value); ok && isName(refBase(t)) && refBase(t) != name {
				target = t
			}
		}
		switch {
		case fl.has('n'):
			at.ref, at.target = true, target
			delete(w.ambiguous, name)
		case sure:
			at.ref, at.target = false, ""
			w.ambiguous[name] = true
		default:
			at.target = ""
			w.ambiguous[name] = true
		}
		return
	}
	if at.ref && (fl.set != "" || fl.unset != "") {
		// Attributes given through a name reference.
		w.invalidateAll()
		return
	}
	var mod byte
	n := 0
	for _, c := range []byte("luc") {
		if fl.has(c) {
			mod = c
			n++
		}
		if fl.unset1(c) {
			mod, n = '?', 1
		}
	}
	if n > 1 {
		mod = '?'
	}
	if mod != 0 {
		if sure {
			at.caseMod = mod
		} else if at.caseMod != mod {
			at.caseMod = '?'
		}
	}
	if fl.has('A') {
		if v, ok := w.arrays[name]; ok && v.Kind == expand.Indexed {
			w.unknownVar(name)
		}
		if sure {
			at.assoc = 'A'
		} else if at.assoc != 'A' {
			at.assoc = '?'
		}
	}
	if fl.has('i') {
		at.integer = true
	}
	switch {
	case fl.variant == "export":
		w.export(name, !fl.unexport)
	case fl.has('x'):
		w.export(name, true)
	case fl.unset1('x'):
		w.export(name, false)
	}
	if a.Naked && !fl.keepsValue(len(w.frames) > 0) {
		w.unknownVar(name)
	} else if !a.Naked {
		s.setAssign(a, as)
	}
	if fl.has('r') {
		if sure {
			at.ro = 'r'
		} else if at.ro != 'r' {
			at.ro = '?'
		}
	}
}

// assocWhole reports whether word expands all of an associative array
// (${m[@]}, ${!m[*]}, ${#m[@]}) of other than one element: its order is
// bash's hash order, which is not followed, and expand gives all the
// elements as one field.
func (w *walker) assocWhole(word *syntax.Word) bool {
	if len(w.arrays) == 0 {
		return false
	}
	found := false
	syntax.Walk(word, func(n syntax.Node) bool {
		pe, ok := n.(*syntax.ParamExp)
		if !ok || found || pe.Param == nil || pe.Index == nil {
			return !found
		}
		if k, ok := pe.Index.(*syntax.Word); !ok || k.Lit() != "@" && k.Lit() != "*" {
			return true
		}
		name := pe.Param.Value
		for range maxRefs {
			if a := w.attrs[name]; a != nil && a.ref && a.target != "" {
				name = a.target
			}
		}
		if v, ok := w.arrays[name]; ok && v.Kind == expand.Associative && len(v.Map) != 1 {
			found = true
		}
		return !found
	})
	return found
}

// isDecimal reports whether s is a decimal number as bash's arithmetic
// reads it unchanged: no sign, no leading zero (octal).
func isDecimal(s string) bool {
	return isDigits(s) && (s == "0" || s[0] != '0')
}

// applyCase converts s as declare -l, -u or -c does on assignment.
func applyCase(mod byte, s string) string {
	switch mod {
	case 'l':
		return strings.ToLower(s)
	case 'u':
		return strings.ToUpper(s)
	case 'c':
		r := []rune(strings.ToLower(s))
		if len(r) > 0 {
			r[0] = unicode.ToUpper(r[0])
		}
		return string(r)
	}
	return s
}
