package sandbox

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
)

// ErrNotProject is what FindProject and CheckProject return (wrapped in a
// *NotProjectError) for a folder that cannot be a project: the sandbox
// would bind it read-write, so it must be a project and nothing more.
var ErrNotProject = errors.New("not a project")

// NotProjectError says why a command's folder is not in a usable project
// and what the person can do about it.
type NotProjectError struct {
	// Dir is where the command was to run.
	Dir string
	// Root is the folder that would have been the project ("" when none
	// was found).
	Root string
	// Why is the reason, for a person ("it is your home folder").
	Why string
	// plain: Dir could be a project; it just is none yet.
	plain bool
}

func (e *NotProjectError) Error() string {
	where := e.Dir
	if e.Root != "" && e.Root != e.Dir {
		where = e.Dir + " (project " + e.Root + ")"
	}
	fix := "run the agent in a git repository, or trust a project folder with `chaperone trust DIR`"
	if e.plain {
		fix = "run `git init` there, or trust the folder with `chaperone trust " + e.Dir + "`, or run the agent in a project"
	}
	return "not running in " + where + ": " + e.Why + "; " + fix + "; nothing was run"
}

// Unwrap makes errors.Is(err, ErrNotProject) true.
func (e *NotProjectError) Unwrap() error { return ErrNotProject }

// FindProject returns the project of dir: the nearest folder at or above it
// that is a git top level (holds .git) or that the person trusted
// (trusted, as config.TrustedProjects lists them), provided CheckProject
// accepts it. env gives HOME; own are chaperone's own folders (OwnDirs).
// It reads only the file system, so it is cheap enough for every command.
func FindProject(dir string, env, trusted, own []string) (string, error) {
	dir = filepath.Clean(dir)
	root := ""
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil || isTrusted(d, trusted) {
			root = d
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if root == "" {
		if err := CheckProject(dir, env, own); err != nil {
			return "", &NotProjectError{Dir: dir, Why: err.(*NotProjectError).Why}
		}
		return "", &NotProjectError{Dir: dir, Why: "no git repository here or above, and no folder you trusted", plain: true}
	}
	if err := CheckProject(root, env, own); err != nil {
		e := err.(*NotProjectError)
		e.Dir = dir
		return "", e
	}
	return root, nil
}

// isTrusted reports whether d (or where its symbolic links lead) is one
// of the trusted folders.
func isTrusted(d string, trusted []string) bool {
	if len(trusted) == 0 {
		return false
	}
	if slices.Contains(trusted, d) {
		return true
	}
	real, err := filepath.EvalSymlinks(d)
	return err == nil && real != d && slices.Contains(trusted, real)
}

// systemDirs are folders of the system itself: never a project, nor
// anything inside them.
var systemDirs = []string{"/proc", "/sys", "/dev", "/run", "/boot", "/etc", "/usr", "/bin", "/sbin",
	"/lib", "/lib32", "/lib64", "/libx32", "/var/run", "/var/lib", "/var/log", "/var/spool", "/var/cache"}

// topDirs are folders that hold other people's or the system's files: never
// a project themselves (a folder inside them can be).
var topDirs = []string{"/home", "/root", "/tmp", "/var", "/var/tmp", "/opt", "/srv", "/mnt", "/media", "/nix", "/snap"}

// CheckProject returns a *NotProjectError when root cannot be a project:
// it is /, a system folder, the home folder or one that holds it, or it
// holds (or is inside) one of chaperone's own folders (own, see OwnDirs).
// Both the path and where its symbolic links lead are checked. nil means
// it can be one.
func CheckProject(root string, env, own []string) error {
	paths := []string{filepath.Clean(root)}
	if real, err := filepath.EvalSymlinks(root); err == nil && real != paths[0] {
		paths = append(paths, real)
	}
	for _, p := range paths {
		if why := notProject(p, env, own); why != "" {
			return &NotProjectError{Dir: root, Root: root, Why: why}
		}
	}
	return nil
}

// notProject says why p cannot be a project ("" when it can).
func notProject(p string, env, own []string) string {
	if p == "/" {
		return "/ is the whole file system"
	}
	for _, s := range systemDirs {
		if within(p, s) {
			return "it is a system folder (" + s + ")"
		}
	}
	if slices.Contains(topDirs, p) {
		return "it holds other users' or the system's files"
	}
	for _, h := range homes(env) {
		switch {
		case p == h:
			return "it is your home folder"
		case within(h, p):
			return "it holds your home folder"
		}
	}
	for _, d := range own {
		switch {
		case within(p, d):
			return "it is inside chaperone's own folder " + d
		case within(d, p):
			return "it holds chaperone's own folder " + d
		}
	}
	return ""
}

// homes are the user's home folders: $HOME and the one in the password
// database, symbolic links resolved too.
func homes(env []string) []string {
	var out []string
	add := func(h string) {
		if h == "" || !filepath.IsAbs(h) {
			return
		}
		h = filepath.Clean(h)
		out = append(out, h)
		if real, err := filepath.EvalSymlinks(h); err == nil && real != h {
			out = append(out, real)
		}
	}
	add(lookup(env, "HOME"))
	if u, err := user.Current(); err == nil {
		add(u.HomeDir)
	}
	return out
}

// OwnDirs are chaperone's own folders in the environment env (config,
// state, data, sockets) plus extra (the audit folder, when the user's
// config moves it): never visible in a sandbox, never inside or around a
// project.
func OwnDirs(env []string, extra ...string) []string {
	return config.DirsFrom(func(k string) string { return lookup(env, k) }).All(extra...)
}

// relProject is p relative to the project, "" when p is not inside it.
func relProject(p, project string) string {
	if !within(p, project) || p == project {
		return ""
	}
	return strings.TrimPrefix(p, strings.TrimSuffix(project, "/")+"/")
}
