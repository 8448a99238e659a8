package controllers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/protocol"
)

// traderUser is the Redis ACL user of a trader. The market part makes users of equal
// trader names in different markets distinct, and lets a Market's deletion find its own.
func traderUser(m protocol.Market, trader string) string {
	return marketUserPrefix(m) + trader
}

func marketUserPrefix(m protocol.Market) string {
	return "trader:" + m.Namespace + "/" + m.Name + "/"
}

// newPassword returns 32 random bytes, hex encoded.
func newPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a Redis password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// traderACL is the ACL SETUSER rule list of a trader: read ticks, gibbs and its own
// results, append to its own orders, and nothing else. XADD declares its key
// read-write (it may trim), so the orders stream gets `~` rather than `%W~`; the commands
// the user may run are only the stream reads and XADD, so that gives no more than
// appending and re-reading its own orders. The password is given as its SHA-256 so that it
// never appears in Redis's command log.
func traderACL(m protocol.Market, trader, password string, setinfo bool) []any {
	k := m.Keys()
	sum := sha256.Sum256([]byte(password))
	rules := []any{
		"reset", "on", "#" + hex.EncodeToString(sum[:]), "resetchannels",
		"%R~" + k.Ticks(), "%R~" + k.Gibbs(), "%R~" + k.Results(trader), "~" + k.Orders(trader),
		"-@all", "+ping", "+echo", "+hello", "+auth", "+client|setname", "+client|getname", "+client|id",
		"+xread", "+xadd", "+xrange", "+xrevrange", "+xlen",
	}
	if setinfo {
		// Redis 7.2 and later: clients announce their library on connect.
		rules = append(rules, "+client|setinfo")
	}
	return rules
}

// setTraderUser creates or replaces the ACL user of a trader.
func setTraderUser(ctx context.Context, c *redis.Client, m protocol.Market, trader, password string) error {
	user := traderUser(m, trader)
	args := append([]any{"acl", "setuser", user}, traderACL(m, trader, password, true)...)
	err := c.Do(ctx, args...).Err()
	if err != nil && strings.Contains(err.Error(), "client|setinfo") {
		args = append([]any{"acl", "setuser", user}, traderACL(m, trader, password, false)...)
		err = c.Do(ctx, args...).Err()
	}
	if err != nil {
		return fmt.Errorf("create Redis user %s: %w (the operator needs an admin password for Redis: --redis-password-file)", user, err)
	}
	return nil
}

// deleteUsers removes ACL users; a missing one is not an error.
func deleteUsers(ctx context.Context, c *redis.Client, users ...string) error {
	if len(users) == 0 {
		return nil
	}
	args := []any{"acl", "deluser"}
	for _, u := range users {
		args = append(args, u)
	}
	if err := c.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("delete Redis users %s: %w", strings.Join(users, ", "), err)
	}
	return nil
}

// aclUsers lists the ACL users of a server.
func aclUsers(ctx context.Context, c *redis.Client) (map[string]bool, error) {
	users, err := c.Do(ctx, "acl", "users").StringSlice()
	if err != nil {
		return nil, fmt.Errorf("list Redis users: %w", err)
	}
	out := make(map[string]bool, len(users))
	for _, u := range users {
		out[u] = true
	}
	return out, nil
}

// registerTrader writes a trader's entry in the market's traders hash, which tells the
// engine who may trade and for which team.
func registerTrader(ctx context.Context, c *redis.Client, m protocol.Market, trader, team string) error {
	info := protocol.EncodeTraderInfo(protocol.TraderInfo{Team: team})
	if err := c.HSet(ctx, m.Keys().Traders(), trader, info).Err(); err != nil {
		return fmt.Errorf("register trader %s in market %s: %w", trader, m, err)
	}
	return nil
}

func unregisterTrader(ctx context.Context, c *redis.Client, m protocol.Market, trader string) error {
	if err := c.HDel(ctx, m.Keys().Traders(), trader).Err(); err != nil {
		return fmt.Errorf("unregister trader %s from market %s: %w", trader, m, err)
	}
	return nil
}

// deleteMarketData removes every key of a market and the users of its traders.
func deleteMarketData(ctx context.Context, c *redis.Client, m protocol.Market) error {
	// Braces are not glob characters; escapeGlob quotes those that are.
	pattern := escapeGlob(m.Keys().Prefix) + "*"
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return fmt.Errorf("delete the keys of market %s: %w", m, err)
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("list the keys of market %s: %w", m, err)
	}
	if len(batch) > 0 {
		if err := c.Unlink(ctx, batch...).Err(); err != nil {
			return fmt.Errorf("delete the keys of market %s: %w", m, err)
		}
	}
	users, err := aclUsers(ctx, c)
	if err != nil {
		return err
	}
	var mine []string
	for u := range users {
		if strings.HasPrefix(u, marketUserPrefix(m)) {
			mine = append(mine, u)
		}
	}
	return deleteUsers(ctx, c, mine...)
}

// escapeGlob quotes the characters that SCAN's MATCH treats as a pattern.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
