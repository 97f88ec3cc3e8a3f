package broker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/models"
)

// A shim asks about a held command; the panel (here a handler that denies
// everything with a note) answers; the shim prints the denial.
func ExampleClient_Ask() {
	dir, _ := os.MkdirTemp("", "chpex")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "chaperone", broker.SocketName)

	srv, err := broker.Listen(path) // what `chaperone tui` does
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, broker.Handlers{
		OnHold: func(h *broker.Hold) {
			h.Answer(models.Verdict{Approved: false, By: models.ByPerson, Note: "use testdata/key.pem"})
		},
	})

	rating := models.Rating{Risk: models.High, Findings: []models.Finding{
		{Rule: "secrets.read", Risk: models.High, Reason: "reads credentials or secrets outside the project"},
	}}
	c := &broker.Client{Path: path, Timeout: 30 * time.Second}
	v, err := c.Ask(context.Background(), models.HoldRequest{Command: "cat ~/.ssh/id_rsa", Rating: rating})
	if err != nil {
		fmt.Println(err)
		return
	}
	if !v.Approved {
		fmt.Println(broker.DenyMessage(v, rating)) // on stderr, then exit status 126
	}
	// Output:
	// chaperone: denied: reads credentials or secrets outside the project (secrets.read): use testdata/key.pem
}
