package main

import "context"

func runAPI(ctx context.Context, o options) error { return nil }
