package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// Up makes the project's container exist and run, as the first command
// would, and returns its name. With build, it first builds the image from
// the project's .devcontainer/devcontainer.json (its "image", or its
// "build" dockerfile and context) or its Dockerfile, showing the engine's
// progress on progress, and remembers it as the project's image (used when
// neither the config nor CHAPERONE_IMAGE names one).
func (e Engine) Up(ctx context.Context, project string, env []string, build bool, progress io.Writer) (string, error) {
	j := &Job{Dir: project, Project: project, Env: env}
	c, err := e.container(j, env)
	if err != nil {
		return "", err
	}
	if build {
		image, err := e.build(ctx, c, env, progress)
		if err != nil {
			return "", err
		}
		if err := atomicfile.WriteFile(filepath.Join(c.dir, "image"), []byte(image+"\n"), 0o600, nil); err != nil {
			return "", err
		}
		if c, err = e.container(j, env); err != nil {
			return "", err
		}
		if c.image != image {
			fmt.Fprintf(progress, "chaperone: built %s, but the config or CHAPERONE_IMAGE names %s, which is used\n", image, c.image)
		} else if st, err := e.inspect(ctx, c.name, env); err == nil && st.exists {
			// Same tag, new image: the old container must go.
			fmt.Fprintf(progress, "chaperone: replacing container %s to use the new image\n", c.name)
			if err := e.cli(ctx, env, nil, "rm", "-f", c.name); err != nil {
				return "", err
			}
		}
	}
	return c.name, e.ensure(ctx, c, env, progress)
}

// build builds the project's image and returns its tag.
func (e Engine) build(ctx context.Context, c *container, env []string, progress io.Writer) (string, error) {
	tag := c.name + ":latest"
	file, context, image, err := buildSource(c.project)
	if err != nil {
		return "", err
	}
	var cmd *exec.Cmd
	if image != "" {
		fmt.Fprintf(progress, "chaperone: devcontainer.json names image %s; pulling it\n", image)
		cmd = exec.CommandContext(ctx, e.prog(), "pull", image)
		tag = image
	} else {
		fmt.Fprintf(progress, "chaperone: building %s from %s\n", tag, file)
		cmd = exec.CommandContext(ctx, e.prog(), "build", "-t", tag, "-f", file, context)
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build sandbox image: %w", err)
	}
	return tag, nil
}

// buildSource finds how to build the project's image: a Dockerfile and its
// context, or an image name, from .devcontainer/devcontainer.json, else the
// project's Dockerfile.
func buildSource(project string) (file, context, image string, err error) {
	dc := filepath.Join(project, ".devcontainer", "devcontainer.json")
	if data, rerr := os.ReadFile(dc); rerr == nil {
		var v struct {
			Image      string `json:"image"`
			DockerFile string `json:"dockerFile"`
			Context    string `json:"context"`
			Build      struct {
				Dockerfile string `json:"dockerfile"`
				Context    string `json:"context"`
			} `json:"build"`
		}
		if err := json.Unmarshal(stripJSONC(data), &v); err != nil {
			return "", "", "", fmt.Errorf("read %s: %w", dc, err)
		}
		base := filepath.Dir(dc)
		df, cx := v.Build.Dockerfile, v.Build.Context
		if df == "" {
			df, cx = v.DockerFile, v.Context
		}
		if df != "" {
			if cx == "" {
				cx = "."
			}
			return filepath.Join(base, df), filepath.Join(base, cx), "", nil
		}
		if v.Image != "" {
			return "", "", v.Image, nil
		}
	}
	if _, err := os.Stat(filepath.Join(project, "Dockerfile")); err == nil {
		return filepath.Join(project, "Dockerfile"), project, "", nil
	}
	return "", "", "", errors.New("nothing to build: no .devcontainer/devcontainer.json with image or build, and no Dockerfile in " + project)
}

// jsoncComment matches strings (kept) and // or /* */ comments (dropped),
// and trailing commas.
var jsoncComment = lazyre.New(`"(?:[^"\\]|\\.)*"|//[^\n]*|/\*(?s:.*?)\*/|,(\s*[}\]])`)

// stripJSONC turns JSON with comments and trailing commas into JSON.
func stripJSONC(b []byte) []byte {
	return jsoncComment.Regexp().ReplaceAllFunc(b, func(m []byte) []byte {
		switch {
		case m[0] == '"':
			return m
		case m[0] == ',':
			return bytes.TrimLeft(m, ",")
		default:
			return nil
		}
	})
}

// Down removes the project's container (and its state), and the
// containers of its jobs' own (see Engine.once) that are left; running
// commands in them end.
func (e Engine) Down(ctx context.Context, project string, env []string) (string, error) {
	name := ContainerName(project)
	st, err := e.inspect(ctx, name, env)
	if err != nil {
		return name, err
	}
	cmd := exec.CommandContext(ctx, e.prog(), "ps", "-aq", "--filter", "label="+onceLabel+"="+name)
	cmd.Env = env
	if out, err := cmd.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		e.cli(ctx, env, nil, append([]string{"rm", "-f"}, strings.Fields(string(out))...)...)
	}
	os.RemoveAll(filepath.Join(stateDir(env), name))
	if !st.exists {
		return name, nil
	}
	return name, e.cli(ctx, env, nil, "rm", "-f", name)
}

// Status describes the project's container in one line for a person.
func (e Engine) Status(ctx context.Context, project string, env []string) (string, error) {
	name := ContainerName(project)
	out, err := exec.CommandContext(ctx, e.prog(), "ps", "-a", "--filter", "name=^"+name+"$",
		"--format", "{{.Names}}\t{{.Image}}\t{{.Status}}").Output()
	if err != nil {
		return "", fmt.Errorf("%s ps: %w", e.Kind, err)
	}
	line := strings.TrimSpace(string(out))
	if line == "" {
		return fmt.Sprintf("%s: no container for %s yet (%s; created by the first command or `chaperone sandbox up`)", e.Kind, project, name), nil
	}
	f := strings.Split(line, "\t")
	for len(f) < 3 {
		f = append(f, "")
	}
	return fmt.Sprintf("%s: container %s for %s\n  image %s, %s", e.Kind, f[0], project, f[1], f[2]), nil
}
