package main

import (
	"math"
	"slices"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted samples, or 0 for no samples.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9)) // epsilon: 99.9% of 1000 is rank 999
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencyOf sorts samples in place and returns their percentiles; nil for no samples.
func latencyOf(samples []int64) *Latency {
	if len(samples) == 0 {
		return nil
	}
	slices.Sort(samples)
	return &Latency{
		N:    len(samples),
		P50:  percentile(samples, 50),
		P90:  percentile(samples, 90),
		P99:  percentile(samples, 99),
		P999: percentile(samples, 99.9),
	}
}

// Summary is the median of several runs with the range they spanned.
type Summary struct {
	Median, Min, Max float64
	N                int // number of runs summarised
}

// Valid reports whether the summary has at least one run.
func (s Summary) Valid() bool { return s.N > 0 }

// summarize returns the median (mean of the middle two for an even count),
// minimum and maximum of xs. It does not modify xs.
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// summarizeBy applies f to every run and summarises the values.
func summarizeBy(runs []Result, f func(Result) float64) Summary {
	xs := make([]float64, 0, len(runs))
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return summarize(xs)
}

// ratio returns a/b, or NaN when either is missing or b is zero.
func ratio(a, b Summary) float64 {
	if !a.Valid() || !b.Valid() || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}
