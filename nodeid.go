package aemp

import (
	"crypto/rand"
	"os"
	"strings"
	"time"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n characters drawn uniformly from base62.
func randomBase62(n int) string {
	b := make([]byte, n)
	rnd := make([]byte, 1)
	for i := 0; i < n; {
		rand.Read(rnd)     // crypto/rand.Read never fails on supported platforms
		if rnd[0] >= 248 { // 248 = 4*62: reject to stay unbiased
			continue
		}
		b[i] = base62[rnd[0]%62]
		i++
	}
	return string(b)
}

// newRUNIQ returns AnyEvent::MP's $RUNIQ: 10 base62 characters with the last
// one upper-cased (a digit stays a digit).
func newRUNIQ() string {
	r := []byte(randomBase62(10))
	r[9] = byte(strings.ToUpper(string(r[9]))[0])
	return string(r)
}

// newUNIQ returns the 9-character local-port prefix used when the node ID is
// not randomised: five characters from pid and time, four random ones, as
// AnyEvent::MP does, so a restarted process with the same node ID does not
// hand out the port IDs of its predecessor.
func newUNIQ() string {
	pid := os.Getpid()
	t := float64(time.Now().UnixNano()) / 1e9
	b := []byte{
		base62[(pid/62)%62],
		base62[pid%62],
		base62[int64(t)%62],
		base62[int64(t*100)%62],
		base62[int64(t*10000)%62],
	}
	return string(b) + randomBase62(4)
}

// expandNodeID derives the node ID from the template (spec §1.2); runiq is
// the random text it contains ("" when the ID is not randomised).
func expandNodeID(template, profile, host string) (id, runiq string) {
	if template == "" {
		template = profile + "/"
	}
	id = strings.ReplaceAll(template, "%n", host)
	if strings.HasSuffix(id, "/") {
		runiq = newRUNIQ()
		id += runiq
	}
	if strings.Contains(id, "%u") {
		if runiq == "" {
			runiq = newRUNIQ()
		}
		id = strings.ReplaceAll(id, "%u", runiq)
	}
	return id, runiq
}

// localName returns the n-th local port name in AnyEvent::MP's scheme: a
// lowercase counter ("b", "c", … "z", "aa", …), the values of Perl's magic
// string increment starting after "a".
func localName(n uint64) string {
	var buf [16]byte
	i := len(buf)
	for n > 0 {
		n--
		i--
		buf[i] = byte('a' + n%26)
		n /= 26
	}
	return string(buf[i:])
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h // what uname -n prints, as Perl uses
}
