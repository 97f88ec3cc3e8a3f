package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/models"
)

// The generic pass: a command's effects, from its catalogue entry (and
// the subcommand it names), against the objects its words name, read
// through the entry's option and argument kinds. It judges every program
// the catalogue knows, beside that program's check, so that what a check
// does not spell out (a program without one, an option it forgot) is
// still judged by what the program does:
//
//   - a file it sends, or data on its stdin, leaving for a host that is
//     not this machine: net.upload (a secret among them is secrets.read,
//     as every word is; the environment is env.exfil);
//   - a file it deletes: as rm's targets (destroy.*, delete.local);
//   - a file it writes: as a redirection's target, and a download when
//     the program fetches, so that running it later is exec.download;
//   - a file it runs from a temp folder or just downloaded: exec.temp,
//     exec.download;
//   - a folder it serves outside the project: net.upload;
//   - chaperone's own processes it signals: chaperone.self.
//
// For programs without a check, the pass also says what a check would:
// fetching from another host (net.fetch), starting a server
// (proc.background), and running fetched or decoded code from stdin
// (exec.download, exec.obfuscated). The pass only
// adds findings; a check's finding of the same rule and span is not
// repeated (check.hit).

// use is a command seen through its catalogue entry.
type use struct {
	effects catalog.Effect // of the subcommand named, else the program's
	objs    []object
	// remote and local count the URLs and hosts named that are, and are
	// not, on another machine.
	remote, local int
	pos           []models.Word // the positional words, after the subcommand
}

// object is a file a command's word names, and what the command does to it.
type object struct {
	w    models.Word
	does catalog.Effect
	arg  int // its index in use.pos, or -1 for an option's value
}

// objectEffects are the effects the pass judges per object.
const objectEffects = catalog.Sends | catalog.Writes | catalog.Deletes | catalog.ExecFile | catalog.Serves

// passEffects are the effects the pass judges for a whole command; it
// judges quietEffects too for a program without a check.
const (
	passEffects  = catalog.SendsStdin | catalog.Signals | catalog.Sends | catalog.Publishes
	quietEffects = catalog.Fetches | catalog.Serves | catalog.ExecStdin
)

// worthReading reports whether the pass has anything to look at in a use
// of e: the common programs (ls, grep, go test) have not.
func worthReading(e *catalog.Entry) bool {
	pass := passEffects
	if e.Check == "" {
		pass |= quietEffects
	}
	if e.Effects&pass != 0 || e.ArgsDo != 0 {
		return true
	}
	for i := range e.Options {
		if e.Options[i].Does != 0 {
			return true
		}
	}
	for i := range e.Subs {
		if e.Subs[i].ArgsDo != 0 || e.Subs[i].Effects&pass != 0 {
			return true
		}
	}
	return false
}

// readUse reads the words argv (without the program's name) of a use of
// e: options by the entry's list (--opt=v, --opt v, -ov, and a cluster
// -sLo v whose last letter takes the value), then the subcommand, then
// the positional arguments by Args.
func readUse(e *catalog.Entry, argv []models.Word) use {
	u := use{effects: e.Effects}
	args, argsDo := e.Args, e.ArgsDo
	subSeen := len(e.Subs) == 0
	dash := false
	for i := 0; i < len(argv); i++ {
		w := argv[i]
		a := w.Lit
		if !dash && a == "--" {
			dash = true
			continue
		}
		if !dash && len(a) > 1 && a[0] == '-' {
			o, val, ok := optionAt(e, argv, &i)
			if o != nil && ok {
				u.name(o.Kind, o.Does, val, -1)
			}
			continue
		}
		if !subSeen {
			subSeen = true
			if s := e.Sub(a); s != nil {
				u.effects, args, argsDo = s.Effects, s.Args, s.ArgsDo
				continue
			}
		}
		u.pos = append(u.pos, w)
		if len(args) > 0 {
			k := args[min(len(u.pos)-1, len(args)-1)]
			u.name(k, argsDo, w, len(u.pos)-1)
		}
	}
	return u
}

// optionAt reads the option at argv[*i], moving *i past its value. It
// returns the entry's option and its value, or nil when the entry does
// not list it (a flag).
func optionAt(e *catalog.Entry, argv []models.Word, i *int) (*catalog.Option, models.Word, bool) {
	a := argv[*i].Lit
	next := func() (models.Word, bool) {
		if *i+1 < len(argv) {
			*i++
			return argv[*i], true
		}
		return models.Word{}, false
	}
	if strings.HasPrefix(a, "--") {
		name, val, eq := strings.Cut(a, "=")
		o := e.Option(name)
		if o == nil {
			return nil, models.Word{}, false
		}
		if eq {
			return o, part(argv[*i], val), true
		}
		w, ok := next()
		return o, w, ok
	}
	if o := e.Option(a); o != nil {
		w, ok := next()
		return o, w, ok
	}
	if len(a) > 2 {
		if o := e.Option(a[:2]); o != nil {
			// -ovalue
			return o, part(argv[*i], a[2:]), true
		}
		if o := e.Option("-" + a[len(a)-1:]); o != nil {
			// -sLo value: flags, then the option that takes the value.
			w, ok := next()
			return o, w, ok
		}
	}
	return nil, models.Word{}, false
}

// part is the piece v of the word w (an option's value glued to it).
func part(w models.Word, v string) models.Word {
	w.Lit = v
	return w
}

// name records what the word w names, as an option value or argument of
// kind k that the program does does to.
func (u *use) name(k catalog.Kind, does catalog.Effect, w models.Word, arg int) {
	v := w.Lit
	switch {
	case v == "" || v == "-":
	case k == catalog.URL || k == catalog.Host || k == catalog.Path && strings.Contains(v, "://") && !strings.HasPrefix(v, "file://"):
		h := v
		if k == catalog.Path || k == catalog.URL {
			h = host(v)
		} else {
			h = host(strings.TrimSuffix(v, ":"))
		}
		if h == "" {
			return
		}
		if isLocalHost(h) {
			u.local++
		} else {
			u.remote++
		}
	case k == catalog.Path && does != 0:
		if remotePath(v) {
			// host:path names a remote file; the copy is to or from it.
			u.remote++
			return
		}
		u.objs = append(u.objs, object{w: part(w, strings.TrimPrefix(strings.TrimPrefix(v, "file://"), "@")), does: does, arg: arg})
	}
}

// effects is the generic pass over one command whose program the
// catalogue knows.
func (k *check) effects(c *cmd, e *catalog.Entry) {
	if !worthReading(e) || len(c.Argv) == 0 {
		return
	}
	u := readUse(e, c.Argv[1:])
	if u.effects.Has(catalog.Signals) && !signallers[c.name] {
		// By name, as an argument or an option's value (-Name).
		for _, a := range c.args {
			if !strings.HasPrefix(a, "-") && selectsSelf(a, false) {
				k.hit(ruleChaperone, c.span())
			}
		}
	}
	if u.effects.Any(catalog.Sends|catalog.SendsStdin|catalog.Publishes) && !netSenders[c.name] && k.envProducer(c) {
		k.hit(ruleEnvExfil, c.span())
	}
	// Only another machine's host counts: with none named, a sender goes
	// to its own service (a paste site, a mail relay), never this one.
	away := u.remote > 0 || u.local == 0
	fetchInto := u.copyFromRemote()
	for _, o := range u.objs {
		does := o.does
		if fetchInto && does.Has(catalog.Sends) && o.arg >= 0 {
			if o.arg < len(u.pos)-1 {
				continue
			}
			does = catalog.Writes
		}
		switch {
		case does.Has(catalog.Sends):
			if away {
				k.hit(ruleNetUpload, c.span())
			}
		case does.Has(catalog.Deletes):
			k.deleteTarget(c, o.w, c.hasShort("rR") || c.has("--recursive"))
		case does.Has(catalog.Writes):
			k.write(c, o.w, false)
			if u.effects.Has(catalog.Fetches) {
				k.noteDownload(o.w.Lit)
			}
		case does.Has(catalog.ExecFile):
			k.runsFile(c, o.w)
		case does.Has(catalog.Serves):
			switch k.where.placeOf(o.w.Lit, o.w.Dynamic) {
			case placeHome, placeSystem, placeOther:
				k.hit(ruleNetUpload, c.span())
			}
		}
	}
	if u.effects.Has(catalog.SendsStdin) && away && k.stdinData(c) {
		k.hit(ruleNetUpload, c.span())
	}
	if e.Check == "" {
		if u.effects.Has(catalog.ExecStdin) && len(u.pos) == 0 && c.Stdin != "" {
			// Runs the code on its stdin, as a shell would.
			switch {
			case k.feedsFromNetwork(c) || k.pipedFrom(c.idx, fetcher):
				k.hit(ruleExecDownload, c.span())
			case k.pipedFrom(c.idx, decodes):
				k.hit(ruleExecObfuscated, c.span())
			}
		}
		if u.effects.Has(catalog.Fetches) && u.remote > 0 {
			k.hit(ruleNetFetch, c.span())
		}
		if u.effects.Has(catalog.Serves) {
			k.hit(ruleBackground, c.span())
		}
	}
}

// copyFromRemote reports whether a copy's sources are on another machine
// and its destination, the last argument, is here: a download into it,
// which sends nothing.
func (u *use) copyFromRemote() bool {
	if len(u.pos) < 2 || u.remote == 0 {
		return false
	}
	last := u.pos[len(u.pos)-1].Lit
	if strings.Contains(last, "://") || remotePath(last) {
		return false
	}
	for _, w := range u.pos[:len(u.pos)-1] {
		if strings.Contains(w.Lit, "://") || remotePath(w.Lit) {
			return true
		}
	}
	return false
}

// runsFile judges a program file a command runs: one staged in a temp
// folder or downloaded by this command line is run unread.
func (k *check) runsFile(c *cmd, w models.Word) {
	n := k.where.norm(w.Lit)
	switch {
	case k.downloaded[n] || k.downloaded[strings.TrimPrefix(n, "./")]:
		k.hit(ruleExecDownload, c.span())
	case k.where.placeOf(w.Lit, w.Dynamic) == placeTemp:
		k.hit(ruleExecTemp, c.span())
	}
}

// stdinData reports whether c's stdin carries data from this machine (a
// file, another command's output, a substitution) rather than nothing
// or literal text the command line shows.
func (k *check) stdinData(c *cmd) bool {
	switch c.Stdin {
	case "file":
		for _, r := range c.Redirs {
			if r.Op == "<" && (r.Fd == "" || r.Fd == "0") {
				return k.where.placeOf(r.Target.Lit, r.Target.Dynamic) != placeSink
			}
		}
	case "pipe":
		if c.PipeFrom < 0 || c.PipeFrom >= len(k.facts.Commands) {
			return true
		}
		m := &k.facts.Commands[c.PipeFrom]
		if n := m.Name(); n == "echo" || n == "printf" {
			for _, w := range m.Argv[1:] {
				if w.Dynamic || len(w.Subst) > 0 {
					return true
				}
			}
			return false
		}
		return true
	case "heredoc":
		for _, r := range c.Redirs {
			if r.Op == "<<" || r.Op == "<<-" || r.Op == "<<<" {
				return r.Target.Dynamic || len(r.Target.Subst) > 0
			}
		}
	case "subst":
		return true
	}
	return false
}

// fetchesRemote reports whether m is a program the catalogue says
// fetches, naming a URL or host on another machine: its output may be
// anything that host sends (lynx -source URL, ncftpget -c HOST FILE).
func fetchesRemote(m *models.Command) bool {
	e := catalog.Lookup(m.Name())
	if e == nil || !e.Effects.Has(catalog.Fetches) || len(m.Argv) < 2 {
		return false
	}
	u := readUse(e, m.Argv[1:])
	if !u.effects.Has(catalog.Fetches) {
		return false
	}
	if u.remote > 0 {
		return true
	}
	for _, w := range u.pos {
		if strings.Contains(w.Lit, "://") && !strings.HasPrefix(w.Lit, "file://") && !isLocalHost(host(w.Lit)) {
			return true
		}
	}
	return false
}
