// Package expvarstats publishes a node's [aemp.Stats] through the standard
// library's expvar package, and so as JSON at /debug/vars of a program
// that serves http.DefaultServeMux:
//
//	node, _ := aemp.NewNode(cfg)
//	expvarstats.Publish("aemp", node)
//	go http.ListenAndServe("127.0.0.1:8080", nil) // GET /debug/vars
//
// It is a package of its own because importing expvar registers the
// /debug/vars handler and the "cmdline" and "memstats" variables: a
// program that imports aemp without this package gets none of that.
package expvarstats

import (
	"expvar"
	"fmt"

	"github.com/aemp-go/aemp"
)

// Publish publishes n's Stats under name: every read of the variable takes
// a fresh snapshot (Stats' JSON form). It fails if a variable of that name
// exists already (expvar would panic). expvar variables cannot be removed:
// after n is closed the variable shows its last state.
func Publish(name string, n *aemp.Node) error {
	if expvar.Get(name) != nil {
		return fmt.Errorf("expvarstats: %q is published already", name)
	}
	expvar.Publish(name, expvar.Func(func() any { return n.Stats() }))
	return nil
}
