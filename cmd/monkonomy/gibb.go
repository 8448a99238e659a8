package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/monkonomy/monkonomy/cmd/monkonomy/internal/kubeplugin"
	"github.com/monkonomy/monkonomy/market/protocol"
)

func newGibbCmd() *cobra.Command {
	var (
		market    string
		author    string
		engineURL string
		tokenFile string
	)
	cmd := &cobra.Command{
		Use:   "gibb [--market NAME] TEXT...",
		Short: "Post a gibb to a Market from the stage (kubectl plugin)",
		Long: `Post a gibb to a Market's engine, as the dashboard's post box does: it goes into the
public feed and moves the hype like any other gibb.

By default it goes through the Kubernetes API server's service proxy to the Market's
engine Service, with your kubeconfig, so no port-forward is needed (your RBAC needs
create on services/proxy). --engine-url posts to the engine's address directly (a
port-forward, the Ingress, or an arena), with the admin token if the engine has one.`,
		Example: `  kubectl monkonomy gibb -n workshop --market bananas "#mktd bananas are the future"
  monkonomy gibb --engine-url http://localhost:8080 --token-file token.txt "banana up"`,
		Args: cobra.MinimumNArgs(1),
	}
	kf := kubeplugin.AddKubeFlags(cmd.Flags())
	cmd.Flags().StringVar(&market, "market", "", "name of the Market (default: the only Market of the namespace)")
	cmd.Flags().StringVar(&author, "author", "organiser", "the name the gibb is posted under")
	cmd.Flags().StringVar(&engineURL, "engine-url", "", "post to the engine at this address instead of through the API server, e.g. http://localhost:8080")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the engine's admin token, for --engine-url (default: env MONKONOMY_ADMIN_TOKEN)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		g := protocol.PostGibb{Author: author, Text: strings.Join(args, " ")}
		if err := errors.Join(protocol.CheckAuthor(g.Author), protocol.CheckText(g.Text)); err != nil {
			return err
		}
		ctx := cmd.Context()
		var (
			answer string
			err    error
		)
		if engineURL != "" {
			token := os.Getenv("MONKONOMY_ADMIN_TOKEN")
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("read --token-file: %w", err)
				}
				token = strings.TrimSpace(string(b))
			}
			answer, err = kubeplugin.PostGibbDirect(ctx, engineURL, token, g)
		} else {
			if tokenFile != "" {
				// The API server authenticates the caller and drops the Authorization
				// header, so a token cannot travel through its proxy.
				return errors.New("--token-file needs --engine-url: the API server's proxy does not pass the admin token on; use a port-forward or the Ingress address")
			}
			var cl *kubeplugin.Cluster
			if cl, err = kf.Connect(); err != nil {
				return err
			}
			m, ferr := kubeplugin.FindMarket(ctx, cl.Client, cl.Namespace, market)
			if ferr != nil {
				return ferr
			}
			answer, err = kubeplugin.PostGibbProxy(ctx, cl.Config, m.Namespace, m.Name, g)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "Posted the gibb: %s\n", answer)
		return err
	}
	return cmd
}
