package arena

import (
	"fmt"
	"io"
	"strings"

	"github.com/monkonomy/monkonomy/market/redisconn"
	"github.com/monkonomy/monkonomy/market/trader"
)

// banner prints where the dashboard is, who plays, and how a program joins.
func (a *Arena) banner() {
	w := a.opts.Out
	fmt.Fprintf(w, "Monkonomy arena: market %s, a tick every %s", a.market, a.opts.Tick)
	if a.opts.Duration > 0 {
		fmt.Fprintf(w, ", closing after %s", a.opts.Duration)
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintf(w, "  Dashboard  %s\n", a.URL())
	if a.store.embedded != nil {
		fmt.Fprintf(w, "  Redis      %s (embedded; use --redis URL for a real server)\n", a.store.addr)
	} else {
		fmt.Fprintf(w, "  Redis      %s\n", a.store.addr)
	}
	fmt.Fprintln(w, "  Traders")
	if len(a.entrants) == 0 {
		fmt.Fprintln(w, "    none yet: add --builtin NAME, --script FILE or --join NAME")
	}
	for _, e := range a.entrants {
		fmt.Fprintf(w, "    %-20s %s\n", e.Name, e.describe())
	}
	var joined []string
	for _, e := range a.entrants {
		if e.External {
			joined = append(joined, e.Name)
		}
	}
	if len(joined) == 0 {
		fmt.Fprintln(w, "  Your own program, in any language, can play: start the arena with --join NAME.")
	} else {
		for _, name := range joined {
			a.joinHelp(w, name)
		}
	}
	fmt.Fprintln(w, "  Stop with Ctrl-C: the market closes and the final ranking is printed.")
	fmt.Fprintln(w)
}

// joinHelp tells how a program joins as trader name: its environment and its streams.
func (a *Arena) joinHelp(w io.Writer, name string) {
	k := a.market.Keys()
	fmt.Fprintf(w, "  Join as trader %q from your own program, with this environment:\n", name)
	env := []string{
		redisconn.EnvAddr + "=" + a.store.addr,
		trader.EnvMarket + "=" + a.market.String(),
		trader.EnvTrader + "=" + name,
		trader.EnvKeyPrefix + "=" + k.Prefix,
	}
	if a.store.opts.Password != "" {
		env = append(env, redisconn.EnvPassword+"=(the password of your --redis URL)")
	}
	fmt.Fprintf(w, "    export %s\n", strings.Join(shellQuote(env), " "))
	fmt.Fprintf(w, "    read ticks   XREAD BLOCK 0 STREAMS %s $\n", k.Ticks())
	fmt.Fprintf(w, "    read gibbs   XREAD BLOCK 0 STREAMS %s $\n", k.Gibbs())
	fmt.Fprintf(w, "    send orders  XADD %s * kind buy qty 1   (kinds: buy, sell, feed qty N; invest coins X; gibb text T)\n", k.Orders(name))
	fmt.Fprintf(w, "    read results XREAD BLOCK 0 STREAMS %s $\n", k.Results(name))
}

// shellQuote quotes each NAME=value whose value a shell would change: the key prefix holds
// braces.
func shellQuote(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		name, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(v, "{}$ '\"()*?") {
			v = "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		out[i] = name + "=" + v
	}
	return out
}
