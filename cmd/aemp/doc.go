// Command aemp is the command-line tool of aemp for Go, the Go counterpart
// of AnyEvent::MP's bin/aemp.
//
//	go install github.com/aemp-go/aemp/cmd/aemp@latest
//
// # aemp command-line tool
//
// aemp works on AnyEvent::MP's configuration file, the same file, in the
// same format, as Perl's aemp (spec §7): $PERL_ANYEVENT_MP_RC if set, else
// $HOME/.perl-anyevent-mp, else $APPDATA/perl-anyevent-mp. Go nodes read it
// with aemp.ReadConfigFile, Perl nodes with AnyEvent::MP::Config.
//
//	aemp <subcommand> [<argument>...] [<subcommand> [<argument>...]]...
//
// Subcommands (every set<name> also answers to <name>, except seteval):
//
//	node ID         setnodeid <nodeid>, delnodeid
//	authentication  gensecret, setsecret <secret>, delsecret,
//	                gencert, setcert <file>, delcert
//	seeds           setseeds <host:port>,..., delseeds, addseed <host:port>, delseed <host:port>
//	binds           setbinds <host:port>,..., delbinds, addbind <host:port>, delbind <host:port>
//	services        setservices <initfunc>,..., delservices, addservice <initfunc>,
//	                delservice <initfunc>, seteval <perl>, deleval
//	profiles        profile <name>, delprofile <name>, setparent <name>, delparent,
//	                showprofile <name>, showconfig [<name> [<key> <value>]...]
//	low-level       set/del secure, monitor_timeout, connect_interval, framing_format,
//	                auth_offer, auth_accept, autocork, nodelay
//	messages        snd <port> <arg>..., cal <port> <arg>..., mon <port>,
//	                eval <node> <expr>...
//	the mesh        nodes, db [-watch] <family>, stats <node>, trace <node>,
//	                bench [-n N] [-inflight K] [-size B] <port|node>
//	running a node  run [<profile> [<key> <value>]...]
//	help            help [<subcommand>]; -h or --help after any subcommand
//
// # Talking to a mesh
//
// The messages and mesh subcommands run a short-lived node, as Perl's aemp
// does: its ID is aemp/%n/%u (host name, random part), and its seeds,
// secret, certificate and transport options come from the "aemp" profile
// of the configuration file (which inherits the top level). It listens
// nowhere: the nodes it talks to answer over the links it opens, and it
// finds them through its master, the first seed that answers. Most give up
// after -timeout (default 5s) without an answer, with exit 1. They take
// every argument after them (a chained subcommand must come before).
// AEMP_TRACE=1 makes the node log every message it sends and receives on
// standard error.
//
//   - snd sends the message, then asks the port's node to relay "message
//     sent successfully" back (["", "snd", <reply port>, …]), which it does
//     once it has the message: the acknowledgement Perl's aemp uses. The
//     port is monitored meanwhile.
//   - cal appends a reply port to the message (AnyEvent::MP's cal) and
//     prints the reply as JSON without the outer brackets.
//   - mon prints the port's kill reason as a JSON array when it dies.
//   - eval works against Perl nodes; a Go node answers an eval request at
//     once with the error "eval is not supported by Go nodes" (exit 1).
//   - nodes lists family 'l of the global database (nodes and their
//     listeners), marking the master and the global nodes ('g).
//   - db prints a family as JSON, or with -watch its changes as they come.
//   - stats prints a Go node's Stats, fetched with the node request
//     ["", "aemp::stats", reply…] (aemp.StatsRequest).
//   - trace walks the links from a node: Go nodes answer aemp::stats,
//     Perl nodes eval of AnyEvent::MP::Kernel::up_nodes.
//   - bench measures round trips to an echo port (["ping", reply, seq,
//     payload] → ["pong", seq, payload], as examples/ping's) or to a
//     node's time request: msgs/s and round-trip percentiles.
//
// run starts a node from a profile (default: the host name) and keeps it
// running until SIGINT or SIGTERM, which shut it down gracefully
// (Node.Shutdown, up to 10s). A node that binds one of its seeds is a seed;
// the AnyEvent::MP::Global:: service makes a node global. Go nodes do not
// run other services yet: aemp names those it skips.
//
// Arguments follow Perl's rules: a lone argument starting with "[" is a
// JSON array of all the arguments; otherwise any argument starting with
// "[", "{" or `"` is the JSON value it holds (setbinds '["*:4040"]'), and
// every other one a string. Subcommands chain and apply in order; `profile
// <name>` makes the ones after it edit that profile instead of the top
// level (the global defaults):
//
//	aemp gensecret profile server binds '*:4040' nodeid server/ setparent base
//
// The file is read and written by internal/rcfile: unknown keys and their
// values are kept exactly, the members of each object keep their order (new
// keys go last), and writes use the layout Perl writes (JSON::XS pretty,
// three-space indent), atomically (temporary file, fsync, rename; the file's
// mode is kept, a new file is 0600). A command line that changes nothing
// does not write the file, and one with a failing subcommand writes nothing.
// A file that does not parse is an error (Perl would start over and
// overwrite it).
//
// Where aemp differs from Perl's on purpose: values that would break a Perl
// or Go node are refused (framing_format, auth_offer and auth_accept must be
// JSON arrays of strings; monitor_timeout and connect_interval numbers; node
// IDs follow the Go rules); delseed, delbind and delservice leave a missing
// list missing (Perl stores an empty one, which stops inheritance);
// setcert refuses a file with no PEM block; gensecret uses crypto/rand;
// showconfig sorts its keys and showprofile prints the file's order (Perl
// prints its hash order).
//
// Where the protocol subcommands differ from Perl's aemp: the temporary
// node always has the ID aemp/%n/%u and never listens (Perl's takes the
// file's nodeid and binds if set, and may then collide with a running
// node); they take flags (-timeout and others) before their arguments; trace
// prints one line per node and leaves the tool's own node out; shell and
// restart are not here.
//
// Exit codes: 0 success, 1 failure, 2 usage error. Errors go to standard
// error, prefixed "aemp: "; standard output carries only the output of the
// subcommands (and help).
//
// # Adding a subcommand
//
// A subcommand is a function func(*session, []arg) error and one entry in
// the commands table (command.go): its name, aliases, argument synopsis,
// how many arguments it takes (min, max; -1 takes the rest of the line), a
// group and a summary for the help. session.config gives the configuration
// file (as changed by the subcommands before it), session.target the
// object the set/del subcommands edit, and rcfile.Effective a profile's
// effective configuration.
package main
