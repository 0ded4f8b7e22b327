package main

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// meshChanges is how many registry changes W5 times after formation, one
// after another: each is made once every node has seen the one before.
// The cell's figure is their median, so that one change that meets the
// mesh still settling from its formation does not make the figure alone.
const meshChanges = 9

// changeRounds counts, for each of the meshChanges rounds, the nodes that
// have yet to see that round's change, and records when the last one did.
type changeRounds struct {
	left []atomic.Int64
	done []chan struct{}
	at   []time.Time // at[k]: when round k's last node saw it (written before done[k] closes)
}

func newChangeRounds(n int) *changeRounds {
	c := &changeRounds{left: make([]atomic.Int64, meshChanges), done: make([]chan struct{}, meshChanges),
		at: make([]time.Time, meshChanges)}
	for k := range meshChanges {
		c.left[k].Store(int64(n))
		c.done[k] = make(chan struct{})
	}
	return c
}

// seen counts one node as having seen round k's change; a node calls it
// once per round.
func (c *changeRounds) seen(k int) {
	if c.left[k].Add(-1) == 0 {
		c.at[k] = time.Now()
		close(c.done[k])
	}
}

// changeValue is the value of round k's change.
func changeValue(k int) string { return fmt.Sprintf("change-%d", k) }

// parseChange returns the round of a change value (ok false for anything
// changeValue does not make).
func parseChange(v string) (k int, ok bool) {
	if _, err := fmt.Sscanf(v, "change-%d", &k); err != nil || k < 0 || k >= meshChanges || v != changeValue(k) {
		return 0, false
	}
	return k, true
}

// nextChange is a node's check of the changes it sees: in order, each
// once. It returns the round to count, or ok false for a value seen
// before (a notification about another key), and an error for a value out
// of order or not a change's.
func nextChange(next *int, v string) (k int, ok bool, err error) {
	k, valid := parseChange(v)
	switch {
	case !valid:
		return 0, false, fmt.Errorf("saw %q, not a change's value", v)
	case k == *next-1:
		return 0, false, nil
	case k != *next:
		return 0, false, fmt.Errorf("saw change %d, want %d", k, *next)
	}
	*next++
	return k, true, nil
}

// timeChanges makes the rounds' changes one after another with put and
// returns the median time from just before a put until the last node has
// seen it. wait waits for a channel (or the run's failure or timeout).
func timeChanges(c *changeRounds, put func(k int) error, wait func(ch <-chan struct{}, k int) error) (int64, error) {
	ds := make([]int64, meshChanges)
	for k := range meshChanges {
		start := time.Now()
		if err := put(k); err != nil {
			return 0, fmt.Errorf("change %d: %w", k, err)
		}
		if err := wait(c.done[k], k); err != nil {
			return 0, fmt.Errorf("change %d: %w", k, err)
		}
		ds[k] = c.at[k].Sub(start).Nanoseconds()
	}
	slices.Sort(ds)
	return ds[meshChanges/2], nil
}
