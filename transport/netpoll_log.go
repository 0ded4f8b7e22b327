package transport

import "io"

// SetNetpollLogOutput sends cloudwego/netpoll's own log lines (its
// "NETPOLL: …" messages, written with the standard log package and its
// date and time prefix) to w instead of standard error. netpoll has one
// logger per process, so this is a process-wide setting; package mesh
// points it at the loggers of the nodes that use netpoll. Where netpoll is
// not available it does nothing.
func SetNetpollLogOutput(w io.Writer) { setNetpollLogOutput(w) }
