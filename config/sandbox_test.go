package config

import (
	"reflect"
	"testing"
)

func TestSandboxProject(t *testing.T) {
	user := SandboxConfig{Network: "none", Memory: "1g", Env: []string{"A"}, Mounts: []string{"/opt/x"}}
	proj := SandboxConfig{Image: "img", Network: "host", Memory: "64g", Runtime: "runc", WritableRoot: true,
		Env: []string{"B"}, Mounts: []string{"/home/u/.ssh"}, Protect: []string{"Makefile.local"}}
	got := user.Project(proj)
	want := SandboxConfig{Image: "img", Network: "none", Memory: "1g", Env: []string{"A", "B"}, Mounts: []string{"/opt/x"},
		Protect: []string{"Makefile.local"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Project:\n got %+v\nwant %+v", got, want)
	}
	if got := (SandboxConfig{Image: "mine"}).Project(proj); got.Image != "mine" {
		t.Errorf("project image replaced the user's: %q", got.Image)
	}
}
