// Package aemp is Erlang-style message passing between goroutines,
// processes and hosts. It re-creates Perl's AnyEvent::MP and speaks its wire
// protocol (AEMP 2.x), so a Go node can join a mesh of Perl nodes and the
// other way round. Two Go nodes agree, through the protocol's own
// negotiation, on a faster framing than the one Perl uses.
//
//	node, _ := aemp.NewNode(aemp.Config{})
//	defer node.Close()
//	port := node.NewPort()
//	port.Rcv("test", func(m *aemp.Msg) error {
//		n, err := m.Int(1) // element 0 is the tag
//		fmt.Println("Ending with:", n)
//		return err // an error (or a panic) kills the port
//	})
//	node.Snd(port.ID(), "test", 123) // the same call for a port on another node
//
// # Nodes and ports
//
// A [Node] is one participant in the mesh, usually one per process. It has a
// node ID, built from [Config.NodeID] with AnyEvent::MP's rules ("%n" is
// the host name, a trailing "/" appends 10 random characters and "%u"
// stands for the same random text; the default is "<host name>/"), and owns
// ports. A [Port] is a mailbox with handlers. Its [PortID] is the string
// "nodeid#local", which can be sent to other nodes like any other value.
// Every node also has a node port (local part "", [Node.NodePort]) that
// serves the node protocol: relaying, time, feature queries ("can"),
// remote monitoring and kill requests, and this library's aemp::stats.
//
// A message ([Msg]) is an ordered list of values. Element 0 is by
// convention a string tag and the rest are arguments, so m.Int(1) reads the
// first argument.
//
// # snd, rcv, kil, mon
//
// These are AnyEvent::MP's four operations:
//
//   - [Node.Snd] and [Node.SndMsg] send to a port on any node and never
//     block. A local message goes into the port's mailbox as Go values and is
//     never serialised. A remote one is encoded onto the link to its node,
//     and the link is opened on demand. [NewMsg] with its Append methods
//     builds a message without boxing its arguments.
//   - [Port.Rcv] registers a [Handler] per tag, and [Port.RcvDefault] sets
//     one for all other tags ([Node.NewPortFunc] is a port with only a
//     default handler). The handlers of one port run one at a time, in
//     arrival order, on the node's worker goroutines ([Config.Workers]),
//     or, for a message from another node to an idle port, on the link's
//     reader goroutine (no hand-off; a handler that blocks there does not
//     block the link); a port with nothing to do costs no goroutine. A handler that returns an
//     error or panics kills its port with ("die", text). A message that no
//     handler takes kills it with ("unhandled_message", …). A received Msg
//     is valid only while its handler runs: a remote message decodes its
//     arguments lazily from the network buffer when the handler asks
//     ([Msg.Int], [Msg.String], [Msg.Decode], [Msg.Scan], …), and
//     [Msg.Clone] keeps a message.
//   - [Node.Kill] and [Port.Kill] kill a port with a [Reason], a list of
//     values that is empty for a normal kill. The kill is queued behind the
//     messages already sent to the port.
//   - [Node.Mon] monitors a port on any node. [MonFunc] calls a function,
//     [MonKill] kills another port unless the reason is normal (a link, also
//     [Port.Mon]), and [MonSend] sends a message. A monitor fires once, with
//     the port's kill reason. It fires with ("no_such_port", …) for a port
//     that does not exist, and with ("transport_error", node, text) when the
//     link to the port's node is lost or cannot be made.
//
// [Port.Exec], [Port.Wrap] and [Port.After] run code in port context
// (AnyEvent::MP's peval, psub and after), serialised with the port's
// handlers. [Node.After] sends a message later.
//
// # Ordering and delivery
//
// The messages one sender sends to a port arrive in the order they were
// sent. Between nodes the order is one FIFO per pair of nodes, as in
// AnyEvent::MP, so a kill or a monitor request keeps its place among the
// messages. Between Go nodes, [Config.OrderPerPort] relaxes this to one
// FIFO per destination port.
//
// Nothing is lost silently once a monitor is in place: after [Node.Mon]
// returns, every message sent to the port is either delivered in order or
// the monitor fires. Without a monitor, a message to a port that does not
// exist is dropped, as AnyEvent::MP drops it. Every queue is bounded, and no
// limit drops a message quietly:
//
//   - A mailbox past [Config.MailboxLimit] kills its port with
//     ("overflow", …), and the sender gets [ErrOverflow].
//   - Messages waiting for a connection are discarded when
//     [Config.ConnectTimeout] passes, and the monitors of that node's ports
//     fire.
//   - A message larger than [Config.MaxFrame] fails alone ([Node.Snd]
//     returns the error, or it is logged if the message was waiting for a
//     connection), and its link stays up.
//
// # Networking
//
// A node with [Config.Binds] listens for other nodes. [Config.Nodes] (or
// [Node.AddNode]) tells a node where other nodes listen. A node with none of
// Binds, Nodes or Seeds is local-only.
//
// Peers authenticate as AnyEvent::MP's do. [Config.Secret] is a shared
// secret (the hmac_sha3_512 method). [Config.Cert] is a PEM bundle that
// turns on TLS with mutual verification (tls_sha3_512, tls_anon). A
// networked node needs at least one of the two. Cleartext is accepted only
// when listed in [Config.AuthAccept], and a Go node never offers it.
// [ReadConfigFile] reads these settings from AnyEvent::MP's configuration
// file ([RCPath]).
//
// Links to Perl nodes use the json framing. Two Go nodes use a
// length-prefixed framing in which byte strings travel as raw bytes
// ([Msg.BytesView] reads them in place). Plain TCP links run on the
// standard library's net package by default. [Config.Backend] "netpoll"
// selects cloudwego/netpoll where it is available.
//
// # Seeds and the global database
//
// [Config.Seeds] names the seed nodes of a mesh. Seeds become global nodes:
// they hold the replicated global database, and every other node links to
// them, takes the first one that is up as its master, and asks it where
// other nodes listen (so a mesh needs no [Config.Nodes]). [Config.Global]
// makes a node global from the start. The database is AnyEvent::MP's:
//
//   - [Node.DBSet], [Node.DBDel] and [Node.DBReg] publish this node's keys.
//     DBReg's key goes away when its port dies.
//   - [Node.DBFamily], [Node.DBKeys] and [Node.DBValues] query the merged
//     view at the master.
//   - [Node.DBMon] follows a family as it changes.
//   - [Node.MonNodes] reports links coming up and going down.
//
// A Go node can be a Perl node's seed and the other way round.
//
// # spawn and cal
//
// [Node.Call] is AnyEvent::MP's cal: it sends a request whose last element
// is a temporary reply port and waits, bounded by its context, for the
// answer, which the handler sends with [Msg.Reply]; a target that dies
// ends the call with its [Reason] ([ErrDied]). [Node.Spawn] is spawn: it
// starts a [Func] registered by name in the target node's [Config.Funcs]
// ("Package::function") in port context of a new port whose ID the
// spawner chose and gets back at once. The same functions answer
// function-call node requests (Perl's snd_to_func) and start with the node
// as [Config.Services]; [Config.Secure] refuses them from other nodes.
// Nothing but registered functions ever runs: a Perl eval request is
// answered with an error at once.
//
// [Configure] starts a node from a profile of AnyEvent::MP's configuration
// file, as Perl's configure does.
//
// # Operating a node
//
// [Node.Stats] is a snapshot for operators, cheap enough to take every
// second: each link (up or not, framings, auth, traffic, queued bytes,
// reconnects, the last error), the ports (how many, the deepest
// mailboxes, deaths by reason kind), the node's part in the global
// database and its active monitors. Package expvarstats publishes it
// through expvar, and the module github.com/aemp-go/aemp/contrib/prometheus
// exports it to Prometheus. Another node (the aemp tool's stats and
// trace) asks for it with the node request ["", "aemp::stats", reply…]
// ([StatsRequest]). [Config.Trace], or AEMP_TRACE=1 in the environment,
// logs every message to and from other nodes at Debug.
//
// # Callbacks
//
// Handlers and the functions given to Exec, Wrap and After run on a worker
// goroutine, one at a time per port; so do [Func]s, in the context of
// their new port. [MonFunc] callbacks run on the
// goroutine that processed the death. DBMon and MonNodes callbacks run one
// at a time, in order, on the node's registry port. None of them may block
// for long. The callback contracts are spelt out in each function's doc
// and in docs/architecture.md.
//
// # Not yet
//
// # Documentation
//
// README.md gives an overview and the examples (examples/);
// docs/tutorial.md is AnyEvent::MP's tutorial told for Go. The layering,
// the kernel's design and the callback contracts are in
// docs/architecture.md, links, framings and backends in docs/transport.md,
// and measurements in docs/performance.md and bench/RESULTS.md. The
// protocol-level packages each have their own documentation: wire, frame,
// auth, transport, transport/handshake, registry and pool.
package aemp
