package main

import "github.com/tuisong/push/internal/serverenv"

// config is the server's configuration, read from the environment
// variables of the README's table; cmd/pushctl reads the same.
type config = serverenv.Config

// loadConfig reads the configuration through getenv (see serverenv.Load).
func loadConfig(getenv func(string) string) (config, error) { return serverenv.Load(getenv) }
