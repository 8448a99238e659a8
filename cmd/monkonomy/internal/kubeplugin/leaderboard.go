package kubeplugin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// FindMarket returns the Market called name in namespace ns or, when name is empty, the
// only Market of the namespace.
func FindMarket(ctx context.Context, c client.Reader, ns, name string) (*v1alpha1.Market, error) {
	if name != "" {
		var m v1alpha1.Market
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &m); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("no Market %q in namespace %q: `kubectl get markets -A` lists them, -n picks the namespace", name, ns)
			}
			return nil, fmt.Errorf("read Market %s/%s: %w", ns, name, err)
		}
		return &m, nil
	}
	var list v1alpha1.MarketList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list the Markets of namespace %q: %w", ns, err)
	}
	switch len(list.Items) {
	case 0:
		return nil, fmt.Errorf("no Market in namespace %q: -n picks the namespace of your event", ns)
	case 1:
		return &list.Items[0], nil
	}
	names := make([]string, len(list.Items))
	for i, m := range list.Items {
		names[i] = m.Name
	}
	return nil, fmt.Errorf("namespace %q has %d Markets (%s): choose one with --market", ns, len(names), strings.Join(names, ", "))
}

// MarketTraders lists the Traders of a Market, in leaderboard order.
func MarketTraders(ctx context.Context, c client.Reader, m *v1alpha1.Market) ([]v1alpha1.Trader, error) {
	var list v1alpha1.TraderList
	if err := c.List(ctx, &list, client.InNamespace(m.Namespace)); err != nil {
		return nil, fmt.Errorf("list the Traders of namespace %q: %w", m.Namespace, err)
	}
	var out []v1alpha1.Trader
	for _, t := range list.Items {
		if t.Spec.Market == m.Name {
			out = append(out, t)
		}
	}
	SortByRank(out)
	return out, nil
}

// SortByRank orders Traders as the leaderboard shows them: by rank, the ones the market has
// not ranked yet (rank 0) last, then by score, then by name so that the order is stable.
func SortByRank(traders []v1alpha1.Trader) {
	slices.SortStableFunc(traders, func(a, b v1alpha1.Trader) int {
		ra, rb := a.Status.Rank, b.Status.Rank
		switch {
		case ra != rb && ra == 0:
			return 1
		case ra != rb && rb == 0:
			return -1
		case ra != rb:
			return int(ra - rb)
		case a.Status.Score != b.Status.Score:
			if a.Status.Score > b.Status.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// WriteLeaderboard writes the Market's line and its Traders as a table.
func WriteLeaderboard(w io.Writer, m *v1alpha1.Market, traders []v1alpha1.Trader) error {
	phase := string(m.Status.Phase)
	if phase == "" {
		phase = string(v1alpha1.MarketPending)
	}
	price := m.Status.Price
	if price == "" {
		price = "-"
	}
	if _, err := fmt.Fprintf(w, "Market %s/%s  %s  tick %d  price %s  traders %d\n\n",
		m.Namespace, m.Name, phase, m.Status.Tick, price, len(traders)); err != nil {
		return err
	}
	if len(traders) == 0 {
		_, err := fmt.Fprintf(w, "No Traders yet: teams join with `kubectl monkonomy join --team NAME --market %s`.\n", m.Name)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tTEAM\tTRADER\tSCORE\tMONKEYS\tCOINS\tSHARES\tBAILOUTS\tPHASE")
	for _, t := range traders {
		rank := "-"
		if t.Status.Rank > 0 {
			rank = fmt.Sprint(t.Status.Rank)
		}
		coins := t.Status.Coins
		if coins == "" {
			coins = "-"
		}
		phase := string(t.Status.Phase)
		if phase == "" {
			phase = string(v1alpha1.TraderPending)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%s\n", rank, t.Spec.Team, t.Name,
			t.Status.Score, t.Status.MonkeysFed, coins, t.Status.Shares, t.Status.Bailouts, phase)
	}
	return tw.Flush()
}
