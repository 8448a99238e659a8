package strategy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	starlarkmath "go.starlark.net/lib/math"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/monkonomy/monkonomy/market/rules"
)

// ScriptLimits bound what one call of a script may use. The zero value of a field takes
// its default.
type ScriptLimits struct {
	// Steps is the most Starlark computation steps per call [1,000,000].
	Steps uint64
	// Budget is the most wall-clock time per call [100ms]; loading the script gets ten
	// times as much.
	Budget time.Duration
	// Actions is the most actions one call may return; the rest are dropped [10].
	Actions int
	// Memory is the most bytes the memory dict may hold, counted as 16 bytes per value plus
	// the length of every string; a call that leaves more finds memory cleared [1 MiB].
	Memory int
	// Prints is the most print() lines logged per call [10].
	Prints int
}

func (l ScriptLimits) withDefaults() ScriptLimits {
	l.Steps = cmp.Or(l.Steps, 1_000_000)
	l.Budget = cmp.Or(l.Budget, 100*time.Millisecond)
	l.Actions = cmp.Or(l.Actions, 10)
	l.Memory = cmp.Or(l.Memory, 1<<20)
	l.Prints = cmp.Or(l.Prints, 10)
	return l
}

// ScriptStats counts what happened to a script's calls; the trader runtime shows them in its
// "Standing" log line.
type ScriptStats struct {
	Calls          int64 // calls of on_tick, on_result and on_gibb
	Errors         int64 // calls that failed (each one is also reported to Log)
	Overruns       int64 // failures because the call ran over its steps or time budget
	MemoryResets   int64 // times memory was cleared for holding too much
	DroppedActions int64 // actions returned over the per-call limit
}

func (s ScriptStats) String() string {
	return fmt.Sprintf("calls=%d errors=%d overruns=%d memory-resets=%d dropped-actions=%d",
		s.Calls, s.Errors, s.Overruns, s.MemoryResets, s.DroppedActions)
}

// Script is a strategy written in Starlark. See LoadScript.
type Script struct {
	name     string
	limits   ScriptLimits
	log      func(msg string)
	onTick   starlark.Callable
	onResult starlark.Callable
	onGibb   starlark.Callable
	memory   *starlark.Dict

	calls, errs, overruns, resets, dropped atomic.Int64
}

// ScriptOptions configure LoadScript.
type ScriptOptions struct {
	Limits ScriptLimits
	// Log receives every error of a call and the script's print() lines; nil discards them.
	Log func(msg string)
}

// LoadScript compiles and runs a script's top level. The script must define
// on_tick(tick, account, memory); on_result(result, memory) and on_gibb(gibb, memory) are
// optional. A script that does not load returns an error that starts with file:line:col.
func LoadScript(filename string, src []byte, opts ScriptOptions) (*Script, error) {
	s := &Script{
		name:   filename,
		limits: opts.Limits.withDefaults(),
		log:    opts.Log,
		memory: new(starlark.Dict),
	}
	if s.log == nil {
		s.log = func(string) {}
	}
	thread, stop := s.thread("load", 10*s.limits.Budget, 10*s.limits.Steps, new(int))
	defer stop()
	fileOpts := &syntax.FileOptions{While: true, TopLevelControl: true, GlobalReassign: true}
	globals, err := starlark.ExecFileOptions(fileOpts, thread, filename, src, predeclared)
	if err != nil {
		return nil, fmt.Errorf("load script: %s", s.describe(err))
	}
	var errs []string
	s.onTick = s.callback(globals, "on_tick", "tick, account, memory", 3, true, &errs)
	s.onResult = s.callback(globals, "on_result", "result, memory", 2, false, &errs)
	s.onGibb = s.callback(globals, "on_gibb", "gibb, memory", 2, false, &errs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("load script: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

func (s *Script) callback(globals starlark.StringDict, name, params string, n int, required bool, errs *[]string) starlark.Callable {
	v, ok := globals[name]
	if !ok {
		if required {
			*errs = append(*errs, fmt.Sprintf("%s:1:1: the script defines no %s(%s); every script needs one", s.name, name, params))
		}
		return nil
	}
	fn, ok := v.(*starlark.Function)
	if !ok {
		*errs = append(*errs, fmt.Sprintf("%s:1:1: %s is a %s; define it as def %s(%s):", s.name, name, v.Type(), name, params))
		return nil
	}
	if fn.NumParams() != n || fn.HasVarargs() || fn.HasKwargs() {
		*errs = append(*errs, fmt.Sprintf("%s: %s takes %d parameters; define it as def %s(%s):", fn.Position(), name, fn.NumParams(), name, params))
		return nil
	}
	return fn
}

// Stats returns the script's counters.
func (s *Script) Stats() ScriptStats {
	return ScriptStats{
		Calls: s.calls.Load(), Errors: s.errs.Load(), Overruns: s.overruns.Load(),
		MemoryResets: s.resets.Load(), DroppedActions: s.dropped.Load(),
	}
}

// OnTick calls on_tick(tick, account, memory), with account.score computed with the rules'
// default bailout penalty; the runtimes call OnScoredTick with the market's score instead.
func (s *Script) OnTick(t rules.Tick, a rules.Account) []Action {
	return s.OnScoredTick(t, a, a.Score(rules.DefaultBailoutPenalty))
}

// OnScoredTick calls on_tick(tick, account, memory) with account.score set to score, the
// market's.
func (s *Script) OnScoredTick(t rules.Tick, a rules.Account, score int64) []Action {
	return s.call("on_tick", s.onTick, tickValue(t), accountValue(a, score), s.memory)
}

// OnResult calls on_result(result, memory) when the script defines it.
func (s *Script) OnResult(r rules.Result) []Action {
	if s.onResult == nil {
		return nil
	}
	return s.call("on_result", s.onResult, resultValue(r), s.memory)
}

// OnGibb calls on_gibb(gibb, memory) when the script defines it.
func (s *Script) OnGibb(g rules.GibbEffect) []Action {
	if s.onGibb == nil {
		return nil
	}
	return s.call("on_gibb", s.onGibb, gibbValue(g), s.memory)
}

// thread returns a sandboxed thread: no load(), a step limit, a wall-clock budget, and a
// bounded print. stop must be called when the call returns.
func (s *Script) thread(name string, budget time.Duration, steps uint64, prints *int) (*starlark.Thread, func()) {
	thread := &starlark.Thread{
		Name: name,
		Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
			return nil, errors.New("load() is not available to trader scripts: put everything in one file")
		},
		Print: func(_ *starlark.Thread, msg string) {
			*prints++
			if *prints > s.limits.Prints {
				return
			}
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			s.log(fmt.Sprintf("%s: print: %s", s.name, msg))
		},
	}
	thread.SetMaxExecutionSteps(steps)
	timer := time.AfterFunc(budget, func() {
		thread.Cancel(fmt.Sprintf("over its time budget of %s", budget))
	})
	return thread, func() { timer.Stop() }
}

func (s *Script) call(name string, fn starlark.Callable, args ...starlark.Value) []Action {
	s.calls.Add(1)
	prints := 0
	thread, stop := s.thread(name, s.limits.Budget, s.limits.Steps, &prints)
	v, err := starlark.Call(thread, fn, args, nil)
	stop()
	s.checkMemory(name)
	if err != nil {
		s.errs.Add(1)
		msg := s.describe(err)
		if strings.Contains(err.Error(), "too many steps") || strings.Contains(err.Error(), "time budget") {
			s.overruns.Add(1)
			msg += fmt.Sprintf(" (a call may take at most %d steps and %s)", s.limits.Steps, s.limits.Budget)
		}
		s.log(fmt.Sprintf("%s failed: %s", name, msg))
		return nil
	}
	actions, err := s.actions(name, v)
	if err != nil {
		s.errs.Add(1)
		s.log(fmt.Sprintf("%s failed: %s: %v", name, s.name, err))
	}
	return actions
}

// actions reads what a callback returned: None, an action, or a list or tuple of actions.
func (s *Script) actions(name string, v starlark.Value) ([]Action, error) {
	var items []starlark.Value
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case *actionValue:
		return []Action{v.a}, nil
	case *starlark.List:
		for i := range v.Len() {
			items = append(items, v.Index(i))
		}
	case starlark.Tuple:
		items = v
	default:
		return nil, fmt.Errorf("%s returned a %s; return a list of actions such as [buy(1)], or None", name, v.Type())
	}
	var out []Action
	for i, it := range items {
		a, ok := it.(*actionValue)
		if !ok {
			return out, fmt.Errorf("%s returned a %s at position %d of its list; build actions with buy, sell, feed, invest and gibb", name, it.Type(), i)
		}
		if len(out) == s.limits.Actions {
			s.dropped.Add(int64(len(items) - i))
			return out, fmt.Errorf("%s returned %d actions; only the first %d are sent", name, len(items), s.limits.Actions)
		}
		out = append(out, a.a)
	}
	return out, nil
}

// checkMemory clears memory when it holds more than the limit, so a script cannot grow
// without bound over a long game.
func (s *Script) checkMemory(name string) {
	budget := s.limits.Memory
	if sizeOf(s.memory, &budget) {
		return
	}
	s.memory = new(starlark.Dict)
	s.resets.Add(1)
	s.log(fmt.Sprintf("%s: %s: memory held more than %d bytes and was cleared", name, s.name, s.limits.Memory))
}

// sizeOf subtracts the size of v from budget and reports whether it stayed within it. It
// stops as soon as the budget is spent, so a cycle or a huge value costs little to measure.
func sizeOf(v starlark.Value, budget *int) bool {
	*budget -= 16
	if *budget < 0 {
		return false
	}
	switch v := v.(type) {
	case starlark.String:
		*budget -= len(v)
	case starlark.Bytes:
		*budget -= len(v)
	case *starlark.Dict:
		for _, kv := range v.Items() {
			if !sizeOf(kv[0], budget) || !sizeOf(kv[1], budget) {
				return false
			}
		}
	case starlark.Iterable:
		it := v.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			if !sizeOf(x, budget) {
				return false
			}
		}
	case *starlarkstruct.Struct:
		for _, n := range v.AttrNames() {
			x, _ := v.Attr(n)
			if !sizeOf(x, budget) {
				return false
			}
		}
	}
	return *budget >= 0
}

// describe turns an error into "file:line:col: message".
func (s *Script) describe(err error) string {
	var evalErr *starlark.EvalError
	var syntaxErr syntax.Error
	var resolveErrs resolve.ErrorList
	switch {
	case errors.As(err, &syntaxErr):
		return syntaxErr.Error()
	case errors.As(err, &resolveErrs):
		msgs := make([]string, len(resolveErrs))
		for i, e := range resolveErrs {
			msgs[i] = e.Error()
		}
		return strings.Join(msgs, "; ")
	case errors.As(err, &evalErr):
		for i := len(evalErr.CallStack) - 1; i >= 0; i-- {
			if fr := evalErr.CallStack[i]; fr.Pos.Filename() == s.name {
				return fmt.Sprintf("%s: in %s: %s", fr.Pos, fr.Name, evalErr.Msg)
			}
		}
		return fmt.Sprintf("%s: %s", s.name, evalErr.Msg)
	}
	return fmt.Sprintf("%s: %v", s.name, err)
}

// predeclared is everything a script sees besides Starlark's own built-ins.
var predeclared = starlark.StringDict{
	"buy":    starlark.NewBuiltin("buy", qtyAction(rules.KindBuy)),
	"sell":   starlark.NewBuiltin("sell", qtyAction(rules.KindSell)),
	"feed":   starlark.NewBuiltin("feed", qtyAction(rules.KindFeed)),
	"invest": starlark.NewBuiltin("invest", invest),
	"gibb":   starlark.NewBuiltin("gibb", gibb),
	"math":   starlarkmath.Module,
	"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
}

// actionValue is an action as a Starlark value.
type actionValue struct{ a Action }

func (v *actionValue) String() string        { return v.a.String() }
func (v *actionValue) Type() string          { return "action" }
func (v *actionValue) Freeze()               {}
func (v *actionValue) Truth() starlark.Bool  { return true }
func (v *actionValue) Hash() (uint32, error) { return 0, errors.New("unhashable type: action") }

func qtyAction(kind rules.Kind) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var n int
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &n); err != nil {
			return nil, fmt.Errorf("%w (write %s(2) with a whole number of shares)", err, b.Name())
		}
		if n < 1 || n > rules.MaxQty {
			return nil, fmt.Errorf("%s(%d): the number of shares must be from 1 to %d", b.Name(), n, rules.MaxQty)
		}
		return &actionValue{Action{Kind: kind, Qty: int64(n)}}, nil
	}
}

func invest(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	coins, err := coinsOf(x)
	if err != nil {
		return nil, fmt.Errorf("invest: %w", err)
	}
	if coins <= 0 {
		return nil, fmt.Errorf("invest(%s): the amount must be more than 0 coins", x)
	}
	return &actionValue{Invest(coins)}, nil
}

// coinsOf converts an amount exactly: a string is read as a decimal with at most 6
// decimals, an int is whole coins, and a float is rounded to the nearest micro-coin (as
// "%.6f" prints it).
func coinsOf(x starlark.Value) (rules.Micro, error) {
	switch x := x.(type) {
	case starlark.String:
		return rules.ParseMicro(string(x))
	case starlark.Int:
		n, ok := x.Int64()
		if !ok || n > math.MaxInt64/int64(rules.MicrosPerCoin) || n < math.MinInt64/int64(rules.MicrosPerCoin) {
			return 0, fmt.Errorf("%s coins is too large", x)
		}
		return rules.Micro(n) * rules.MicrosPerCoin, nil
	case starlark.Float:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e12 {
			return 0, fmt.Errorf("%s is not an amount of coins", x)
		}
		return rules.ParseMicro(strconv.FormatFloat(f, 'f', 6, 64))
	}
	return 0, fmt.Errorf("want an amount of coins as a string (\"2.5\"), an int or a float, not a %s", x.Type())
}

func gibb(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var text string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &text); err != nil {
		return nil, err
	}
	return &actionValue{Gibb(text)}, nil
}

// amount puts an amount in a struct twice: as a float for arithmetic and as the exact
// decimal string.
func amount(fields starlark.StringDict, name string, m rules.Micro) {
	fields[name] = starlark.Float(float64(m) / float64(rules.MicrosPerCoin))
	fields[name+"_str"] = starlark.String(m.String())
}

func tickValue(t rules.Tick) starlark.Value {
	f := starlark.StringDict{
		"seq":     starlark.MakeInt64(t.Seq),
		"burst":   starlark.MakeInt(t.Burst),
		"phase":   starlark.String(t.Phase.String()),
		"time_ms": starlark.MakeInt64(t.TimeMs),
	}
	amount(f, "price", t.Price)
	amount(f, "forecast", t.Forecast)
	amount(f, "ema", t.EMA)
	amount(f, "hype", t.Hype)
	return starlarkstruct.FromStringDict(starlark.String("tick"), f)
}

func accountValue(a rules.Account, score int64) starlark.Value {
	f := starlark.StringDict{
		"shares":   starlark.MakeInt64(a.Shares),
		"fed":      starlark.MakeInt64(a.Fed),
		"bailouts": starlark.MakeInt64(a.Bailouts),
		"inflight": starlark.MakeInt64(a.InFlight),
		"score":    starlark.MakeInt64(score),
	}
	amount(f, "coins", a.Coins)
	amount(f, "invested", a.Invested)
	return starlarkstruct.FromStringDict(starlark.String("account"), f)
}

func resultValue(r rules.Result) starlark.Value {
	f := starlark.StringDict{
		"id":      starlark.String(r.ID),
		"kind":    starlark.String(r.Kind.String()),
		"status":  starlark.String(r.Status.String()),
		"reason":  starlark.String(r.Reason),
		"tick":    starlark.MakeInt64(r.Tick),
		"account": accountValue(r.Account, r.Score),
	}
	amount(f, "price", r.Price)
	amount(f, "credit", r.Credit)
	return starlarkstruct.FromStringDict(starlark.String("result"), f)
}

func gibbValue(g rules.GibbEffect) starlark.Value {
	f := starlark.StringDict{
		"seq":    starlark.MakeInt64(g.Seq),
		"author": starlark.String(g.Author),
		"text":   starlark.String(g.Text),
		"points": starlark.MakeInt64(g.Points),
		"tick":   starlark.MakeInt64(g.Tick),
		"burst":  starlark.Bool(g.Burst),
	}
	amount(f, "hype", g.Hype)
	return starlarkstruct.FromStringDict(starlark.String("gibb"), f)
}
