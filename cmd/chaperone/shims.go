package main

import "context"

func runShims(ctx context.Context, args []string) error { return errNotYet }

func runRun(ctx context.Context, args []string) error { return errNotYet }

func runTrust(ctx context.Context, args []string) error { return errNotYet }

func runHelp(ctx context.Context, args []string) error { return errNotYet }
