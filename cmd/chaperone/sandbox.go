package main

import "context"

func runSandbox(ctx context.Context, args []string) error { return errNotYet }

func runDoctor(ctx context.Context, args []string) error { return errNotYet }
