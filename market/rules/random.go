package rules

import "math"

// The random draws of the rules are counter-based: each is a pure function of the market's
// seed and of what it decides (the tick for the price, the gibb sequence number for a burst,
// the trader and order id for a plantation's r). No state is kept between draws, so a
// restarted engine and any other implementation draw exactly the same numbers.
//
// Construction, so that another implementation can reproduce it bit for bit:
//
//	mix(x)      = splitmix64 finalizer: z = x + 0x9E3779B97F4A7C15;
//	              z = (z ^ z>>30) * 0xBF58476D1CE4E5B9; z = (z ^ z>>27) * 0x94D049BB133111EB;
//	              z ^ z>>31 (all uint64, wrapping).
//	key(d, a…)  = k := mix(seed ^ d); for each input a: k = mix(k ^ a).
//	              d is drawPrice, drawBurst or drawInvest below; a string input is its
//	              FNV-1a 64-bit hash of its UTF-8 bytes.
//	uniform(k)  = (float64(k >> 11) + 0.5) × 2⁻⁵³, in (0, 1), never 0 nor 1.
//	normal(u)   = Acklam's rational approximation of the inverse normal CDF (relative error
//	              below 1.2e-9), with ln computed by lnDet.
//
// Price: z = normal(uniform(key(drawPrice, n))) at tick n. Burst: u = uniform(key(drawBurst,
// gibb seq)). Plantation: z = normal(uniform(key(drawInvest, fnv(trader), fnv(order id)))).
//
// Every float64 operation is a single IEEE-754 double operation rounded to nearest: products
// are wrapped in float64() so that no compiler fuses them into FMA (the Go spec allows that
// otherwise), and exp and ln are computed here (expDet, lnDet) because math.Exp uses FMA on
// some CPUs and not others.
const (
	drawPrice  uint64 = 0x7072696365   // "price"
	drawBurst  uint64 = 0x6275727374   // "burst"
	drawInvest uint64 = 0x696e76657374 // "invest"
)

func mix(x uint64) uint64 {
	z := x + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func uniform(k uint64) float64 {
	return (float64(k>>11) + 0.5) * (1.0 / (1 << 53))
}

func priceDraw(seed uint64, tick int64) float64 {
	return normal(uniform(mix(mix(seed^drawPrice) ^ uint64(tick))))
}

func burstDraw(seed uint64, gibbSeq int64) float64 {
	return uniform(mix(mix(seed^drawBurst) ^ uint64(gibbSeq)))
}

func investDraw(seed uint64, trader, orderID string) float64 {
	return normal(uniform(mix(mix(mix(seed^drawInvest)^fnv64(trader)) ^ fnv64(orderID))))
}

// mul is one rounded product; see the construction above.
func mul(a, b float64) float64 { return float64(a * b) }

// normal returns the standard normal quantile of p in (0, 1) (Acklam's algorithm).
func normal(p float64) float64 {
	const (
		a1, a2, a3, a4, a5, a6 = -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
		b1, b2, b3, b4, b5     = -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01
		c1, c2, c3, c4, c5, c6 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
		d1, d2, d3, d4         = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
		pLow                   = 0.02425
	)
	tail := func(q float64) float64 {
		num := mul(mul(mul(mul(mul(c1, q)+c2, q)+c3, q)+c4, q)+c5, q) + c6
		den := mul(mul(mul(mul(d1, q)+d2, q)+d3, q)+d4, q) + 1
		return num / den
	}
	switch {
	case p < pLow:
		return tail(math.Sqrt(mul(-2, lnDet(p))))
	case p > 1-pLow:
		return -tail(math.Sqrt(mul(-2, lnDet(1-p))))
	}
	q := p - 0.5
	r := mul(q, q)
	num := mul(mul(mul(mul(mul(mul(a1, r)+a2, r)+a3, r)+a4, r)+a5, r)+a6, q)
	den := mul(mul(mul(mul(mul(b1, r)+b2, r)+b3, r)+b4, r)+b5, r) + 1
	return num / den
}

// expDet is e^x by the FreeBSD (fdlibm e_exp.c) algorithm, as in Go's pure-Go math.Exp,
// with every product rounded on its own.
func expDet(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
		p1        = 1.66666666666666657415e-01
		p2        = -2.77777777770155933842e-03
		p3        = 6.61375632143793436117e-05
		p4        = -1.65339022054652515390e-06
		p5        = 4.13813679705723846039e-08
	)
	switch {
	case math.IsNaN(x):
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(mul(log2e, x) - 0.5)
	case x > 0:
		k = int(mul(log2e, x) + 0.5)
	}
	hi := x - mul(float64(k), ln2Hi)
	lo := mul(float64(k), ln2Lo)
	r := hi - lo
	t := mul(r, r)
	c := r - mul(t, p1+mul(t, p2+mul(t, p3+mul(t, p4+mul(t, p5)))))
	y := 1 - ((lo - mul(r, c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// lnDet is the natural logarithm by the FreeBSD (fdlibm e_log.c) algorithm, as in Go's
// pure-Go math.Log, with every product rounded on its own.
func lnDet(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := mul(s, s)
	s4 := mul(s2, s2)
	t1 := mul(s2, l1+mul(s4, l3+mul(s4, l5+mul(s4, l7))))
	t2 := mul(s4, l2+mul(s4, l4+mul(s4, l6)))
	r := t1 + t2
	hfsq := mul(mul(0.5, f), f)
	return mul(k, ln2Hi) - ((hfsq - (mul(s, hfsq+r) + mul(k, ln2Lo))) - f)
}
