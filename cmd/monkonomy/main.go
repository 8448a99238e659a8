// Command monkonomy runs the banana market: the engine, traders, the arena, the operator
// and the tools around them, as subcommands of one binary. Installed as kubectl-monkonomy it
// is also a kubectl plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	// As a kubectl plugin the binary is called kubectl-monkonomy; its usage says so.
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-") {
		root.Use = "kubectl monkonomy"
	}
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
