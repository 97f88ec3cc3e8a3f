package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/internal/suggest"
)

// Backends are the sandbox backends a config may name.
var Backends = []string{"docker", "podman", "bwrap", "host"}

// checkKeys compares every key of a parsed file (md, raw) with Config's
// settings, in the order they appear: the first unknown section or
// setting, or value of the wrong type, is an *Error with its line, the
// key and the fix (the setting meant, or how to write the value).
func checkKeys(path string, data []byte, md toml.MetaData, raw map[string]any) error {
	for _, key := range md.Keys() {
		if err := checkKey(path, data, md, raw, key); err != nil {
			return err
		}
	}
	return nil
}

var (
	unmarshalerType     = reflect.TypeFor[toml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func checkKey(path string, data []byte, md toml.MetaData, raw map[string]any, key toml.Key) error {
	t := reflect.TypeFor[Config]()
	for i, part := range key {
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
			t = t.Elem() // a table of an array of tables
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) ||
			reflect.PointerTo(t).Implements(textUnmarshalerType) {
			return nil // a value that checks itself when decoded, or any map
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			return unknownKey(path, data, md, key[:i+1], i < len(key)-1, t)
		}
		t = f.Type
	}
	for _, v := range valuesAt(raw, key) {
		if err := checkType(path, data, key, typeOf(v), v, t); err != nil {
			return err
		}
	}
	return nil
}

// fieldByKey finds the field of struct t whose toml name is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if name := tomlName(f); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tomlName is the key of field f in TOML ("" for none).
func tomlName(f reflect.StructField) string {
	if !f.IsExported() || f.Anonymous {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// keysOf lists the toml names of struct t's fields.
func keysOf(t reflect.Type) []string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if n := tomlName(f); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// unknownKey is the error for key, whose last part is no setting of the
// table (struct t) it is in.
func unknownKey(path string, data []byte, md toml.MetaData, key toml.Key, table bool, t reflect.Type) error {
	typ := md.Type(key...)
	table = table || typ == "Hash" || typ == "ArrayHash"
	what := fmt.Sprintf("setting %q", key.String())
	if table {
		what = "section [" + key.String() + "]"
	}
	e := &Error{Path: path, Line: keyLine(data, key), Key: key.String(), Msg: "unknown " + what}
	last := key[len(key)-1]
	parent := key[:len(key)-1]
	switch meant := suggest.Closest(last, keysOf(t)); {
	case meant != "" && table:
		e.Fix = fmt.Sprintf("did you mean [%s]?", append(slices.Clone(parent), meant).String())
	case meant != "":
		e.Fix = fmt.Sprintf("did you mean %q?", append(slices.Clone(parent), meant).String())
	default:
		if at := whereIs(reflect.TypeFor[Config](), nil, last); at != nil && !table {
			e.Fix = fmt.Sprintf("%s is a setting of [%s]: move it under that section", last, at.String())
		} else {
			e.Fix = "remove it or correct its name; the settings here are " + strings.Join(keysOf(t), ", ")
		}
	}
	return e
}

// whereIs returns the section of Config (struct t at key at) that has a
// setting named name, or nil.
func whereIs(t reflect.Type, at toml.Key, name string) toml.Key {
	for _, f := range reflect.VisibleFields(t) {
		n := tomlName(f)
		ft := f.Type
		if n == "" || ft.Kind() != reflect.Struct || reflect.PointerTo(ft).Implements(textUnmarshalerType) {
			continue
		}
		sub := append(slices.Clone(at), n)
		if _, ok := fieldByKey(ft, name); ok {
			return sub
		}
		if k := whereIs(ft, sub, name); k != nil {
			return k
		}
	}
	return nil
}

// checkType is the error for a value of TOML type typ (v) at key that the
// setting, of Go type t, cannot take; nil when it can.
func checkType(path string, data []byte, key toml.Key, typ string, v any, t reflect.Type) error {
	want, example := expected(t, key, v)
	ok := true
	switch {
	case want == "":
		return nil // decoded by its own rules
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		ok = typ == "Array" && allStrings(v)
	case listOfRules(t):
		ok = typ == "Array" || typ == "ArrayHash"
	default:
		ok = typ == tomlType(t)
	}
	if ok {
		return nil
	}
	return &Error{Path: path, Line: keyLine(data, key), Key: key.String(),
		Msg: fmt.Sprintf("%s must be %s, not %s", key.String(), want, describe(v)),
		Fix: "write " + example}
}

// tomlType is the TOML type that holds a value of Go type t.
func tomlType(t reflect.Type) string {
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		return "String"
	case t.Kind() == reflect.String:
		return "String"
	case t.Kind() == reflect.Bool:
		return "Bool"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "Integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "Float"
	case t.Kind() == reflect.Struct:
		return "Hash"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "ArrayHash"
	case t.Kind() == reflect.Slice:
		return "Array"
	}
	return ""
}

// expected says what a setting of type t at key takes, for a person, and
// an example line that sets it from v; want is "" for a type that checks
// its own values when decoded.
func expected(t reflect.Type, key toml.Key, v any) (want, example string) {
	last := key[len(key)-1]
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "", ""
	}
	if t == reflect.TypeFor[Duration]() {
		d := `"30s"`
		switch n := v.(type) {
		case int64:
			d = strconv.Quote(strconv.FormatInt(n, 10) + "s")
		case float64:
			d = strconv.Quote(strconv.FormatFloat(n, 'f', -1, 64) + "s")
		}
		return `a duration string such as "30s" or "2m"`, fmt.Sprintf("%s = %s", last, d)
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a string", fmt.Sprintf("%s = %q", last, fmt.Sprint(v))
	}
	kind := tomlType(t)
	if listOfRules(t) {
		kind = "Array"
	}
	switch kind {
	case "String":
		return "a string", fmt.Sprintf("%s = %q", last, fmt.Sprint(v))
	case "Bool":
		return "true or false", last + " = true"
	case "Integer":
		return "a whole number", last + " = 10"
	case "Float":
		return "a number", last + " = 1.5"
	case "Hash":
		return "a section", "[" + key.String() + "] on a line of its own, its settings below it"
	case "ArrayHash":
		return "a list of tables", "[[" + key.String() + "]] before each one"
	case "Array":
		if s, ok := v.(string); ok {
			return "a list of strings", fmt.Sprintf("%s = [%q]", last, s)
		}
		return "a list of strings", last + ` = ["..."]`
	}
	return "", ""
}

// fixFor says how to correct a value at key (dotted) that its type
// refused.
func fixFor(key string) string {
	t := reflect.TypeFor[Config]()
	parts := splitKey(key)
	for _, part := range parts {
		if t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			break
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			break
		}
		t = f.Type
	}
	if t == reflect.TypeFor[Duration]() {
		return fmt.Sprintf(`write a number and a unit of ms, s, m or h, such as %s = "30s" or "2m"`, parts[len(parts)-1])
	}
	return "correct the value of " + key
}

// listOfRules reports whether t is a list of values that decode
// themselves, such as rules: strings or tables.
func listOfRules(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && reflect.PointerTo(t.Elem()).Implements(unmarshalerType)
}

// typeOf is the TOML type of a decoded value, named as toml.MetaData.Type
// names it.
func typeOf(v any) string {
	switch v.(type) {
	case string:
		return "String"
	case int64:
		return "Integer"
	case float64:
		return "Float"
	case bool:
		return "Bool"
	case map[string]any:
		return "Hash"
	case []map[string]any:
		return "ArrayHash"
	case []any:
		return "Array"
	}
	return "Datetime"
}

// describe names a decoded TOML value for a person.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return "the string " + short(strconv.Quote(v))
	case int64:
		return fmt.Sprintf("the number %d", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "a list of tables"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

// short cuts a value shown in an error to a readable length.
func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

func allStrings(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

// valuesAt are the values at key in raw: one, or one per table of an
// array of tables on the way.
func valuesAt(raw map[string]any, key toml.Key) []any {
	vals := []any{raw}
	for _, part := range key {
		var next []any
		for _, v := range vals {
			switch m := v.(type) {
			case map[string]any:
				if x, ok := m[part]; ok {
					next = append(next, x)
				}
			case []map[string]any:
				for _, t := range m {
					if x, ok := t[part]; ok {
						next = append(next, x)
					}
				}
			}
		}
		vals = next
	}
	return vals
}

// checkValues checks the values that have a fixed set of choices.
func checkValues(path string, data []byte, c *Config) error {
	if c.Backend != "" && !slices.Contains(Backends, c.Backend) {
		fix := "write one of them, or remove the line to use the first that works"
		if meant := suggest.Closest(c.Backend, Backends); meant != "" {
			fix = fmt.Sprintf("did you mean backend = %q?", meant)
		}
		return &Error{Path: path, Line: keyLine(data, toml.Key{"backend"}), Key: "backend",
			Msg: fmt.Sprintf("backend %s is no sandbox backend; they are %s", short(strconv.Quote(c.Backend)), strings.Join(Backends, ", ")), Fix: fix}
	}
	return nil
}

// keyLine finds the line of data that sets key, or opens the section key,
// for errors; 0 when it cannot tell. It reads the file as TOML lays it out
// in practice: [section] and [[section]] headers, and keys (dotted, bare
// or quoted) at the start of a line.
func keyLine(data []byte, key toml.Key) int {
	var section toml.Key
	want := key.String()
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || l[0] == '#':
			continue
		case strings.HasPrefix(l, "["):
			h := strings.Trim(strings.TrimSpace(cutComment(l)), "[]")
			section = splitKey(h)
			if section.String() == want {
				return i + 1
			}
		default:
			k, _, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			full := append(slices.Clone(section), splitKey(k)...)
			if len(full) >= len(key) && full[:len(key)].String() == want {
				return i + 1
			}
		}
	}
	return 0
}

// cutComment removes a comment after a section header.
func cutComment(l string) string {
	if i := strings.LastIndex(l, "]"); i >= 0 {
		return l[:i+1]
	}
	return l
}

// splitKey splits a dotted TOML key into its parts, unquoting them.
func splitKey(s string) toml.Key {
	var parts toml.Key
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}
