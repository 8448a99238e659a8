package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/cmd/monkonomy/internal/kubeplugin"
)

func newLeaderboardCmd() *cobra.Command {
	var (
		market string
		live   bool
		every  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "leaderboard [--market NAME] [--watch]",
		Short: "Print a Market's leaderboard from the Traders' status (kubectl plugin)",
		Long: `Print the leaderboard of a Market: its Traders sorted by rank, with score, monkeys fed,
coins, shares and bailouts, read from the Kubernetes API with your kubeconfig. With
--watch it redraws whenever a Trader's standing changes, for a screen beside the
dashboard. Without --market, the only Market of the namespace.`,
		Example: `  kubectl monkonomy leaderboard -n workshop --market bananas --watch`,
		Args:    cobra.NoArgs,
	}
	kf := kubeplugin.AddKubeFlags(cmd.Flags())
	cmd.Flags().StringVar(&market, "market", "", "name of the Market (default: the only Market of the namespace)")
	cmd.Flags().BoolVarP(&live, "watch", "w", false, "redraw whenever a Trader's standing changes, until interrupted")
	cmd.Flags().DurationVar(&every, "min-interval", time.Second, "with --watch, the shortest time between two redraws")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cl, err := kf.Connect()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		m, err := kubeplugin.FindMarket(ctx, cl.Client, cl.Namespace, market)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if !live {
			return drawLeaderboard(ctx, cl.Client, m, out, false)
		}
		if err := watchLeaderboard(ctx, cl.Client, m, out, every); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}
	return cmd
}

// drawLeaderboard reads the Market and its Traders again and writes the board, after
// clearing a terminal screen when clear is set.
func drawLeaderboard(ctx context.Context, c client.Reader, m *v1alpha1.Market, w io.Writer, clear bool) error {
	var fresh v1alpha1.Market
	if err := c.Get(ctx, client.ObjectKeyFromObject(m), &fresh); err != nil {
		return fmt.Errorf("read Market %s/%s: %w", m.Namespace, m.Name, err)
	}
	traders, err := kubeplugin.MarketTraders(ctx, c, &fresh)
	if err != nil {
		return err
	}
	// One write per board, so that a reader never sees half of one.
	var buf bytes.Buffer
	if clear {
		buf.WriteString("\033[H\033[2J")
	}
	if err := kubeplugin.WriteLeaderboard(&buf, &fresh, traders); err != nil {
		return err
	}
	if !clear {
		buf.WriteString("\n")
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// watchLeaderboard redraws the board on every change of the namespace's Traders, at most
// once per interval, and starts the watch again when the API server ends it.
func watchLeaderboard(ctx context.Context, c client.WithWatch, m *v1alpha1.Market, w io.Writer, interval time.Duration) error {
	f, isFile := w.(*os.File)
	clear := isFile && term.IsTerminal(int(f.Fd()))
	for ctx.Err() == nil {
		var list v1alpha1.TraderList
		wi, err := c.Watch(ctx, &list, client.InNamespace(m.Namespace))
		if err != nil {
			return fmt.Errorf("watch the Traders of namespace %q: %w", m.Namespace, err)
		}
		if err := drawLeaderboard(ctx, c, m, w, clear); err != nil {
			wi.Stop()
			return err
		}
		err = redrawOnEvents(ctx, c, m, w, wi, interval, clear)
		wi.Stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func redrawOnEvents(ctx context.Context, c client.Reader, m *v1alpha1.Market, w io.Writer, wi watch.Interface, interval time.Duration, clear bool) error {
	var last time.Time
	pending := false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return nil
			}
			if ev.Type == watch.Error {
				return nil
			}
			if pending {
				continue
			}
			if wait := interval - time.Since(last); wait > 0 {
				pending = true
				timer.Reset(wait)
				continue
			}
		case <-timer.C:
			pending = false
		}
		last = time.Now()
		if err := drawLeaderboard(ctx, c, m, w, clear); err != nil {
			return err
		}
	}
}
