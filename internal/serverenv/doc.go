// Package serverenv is the configuration shared by examples/server and
// cmd/pushctl: the environment variables of the README's table (Load), the
// database and store they name (Open), and the provider clients their
// credentials configure (Providers). It imports no database driver: the
// commands that use it import the drivers of "sqlite", "mysql" and "pgx".
package serverenv
