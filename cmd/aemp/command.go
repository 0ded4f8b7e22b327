package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/aemp-go/aemp/internal/rcfile"
)

// A command is one aemp subcommand. It takes between min and max of the
// arguments that follow it (max -1: all that are left); the rest of the
// command line is the next subcommand and its arguments, as in Perl's aemp.
type command struct {
	name    string
	aliases []string
	args    string // the arguments' synopsis, "" for none
	min     int
	max     int
	group   string
	summary string // one line for the listing
	help    string // more text for `aemp help <name>`, may be ""
	run     func(s *session, args []arg) error
}

// Groups of the listing, in the order of Perl's aemp synopsis.
const (
	groupNodeID   = "node ID"
	groupAuth     = "authentication"
	groupSeeds    = "seeds"
	groupBinds    = "binds"
	groupServices = "services"
	groupProfiles = "profiles"
	groupLowLevel = "low-level transport options"
	groupMessages = "messages"
	groupMesh     = "the mesh"
	groupRun      = "running a node"
	groupHelp     = "help"
)

var groups = []string{groupNodeID, groupAuth, groupSeeds, groupBinds, groupServices, groupProfiles, groupLowLevel,
	groupMessages, groupMesh, groupRun, groupHelp}

// timeoutHelp ends the help of the subcommands that wait for an answer.
const timeoutHelp = " -timeout <duration> (default 5s) bounds the wait; exit 1 without an answer."

// commands is the subcommand table. To add a subcommand, write its run
// function and add one entry here (in init, because help reads the table).
var commands []*command

func init() {
	commands = []*command{
		{name: "setnodeid", aliases: []string{"nodeid"}, args: "<nodeid>", min: 1, max: 1, group: groupNodeID,
			summary: "set the node ID (trailing /: add random chars)",
			help:    "%n in the node ID is the host name, %u a random string. Without a node ID a node uses its profile name plus \"/\".",
			run:     setString("nodeid", "node ID", checkNodeID)},
		{name: "delnodeid", group: groupNodeID, summary: "remove the node ID (inherit it again)", run: del("nodeid")},

		{name: "gensecret", group: groupAuth, summary: "set a new random shared secret (180 chars)",
			help: "The secret comes from the system's cryptographic random number generator.",
			run:  genSecret},
		{name: "setsecret", aliases: []string{"secret"}, args: "<secret>", min: 1, max: 1, group: groupAuth,
			summary: "set the shared secret", run: setString("secret", "shared secret", nil)},
		{name: "delsecret", group: groupAuth, summary: "remove the shared secret (inherit it again)", run: del("secret")},
		{name: "gencert", group: groupAuth, summary: "set a new self-signed certificate and key",
			help: "The certificate (CN=AnyEvent::MP, a CA for itself) and its PKCS#8 key are stored as one PEM text, " +
				"certificate first, as Perl's aemp stores the output of openssl req. Nodes that share it trust each other.",
			run: genCert},
		{name: "setcert", aliases: []string{"cert"}, args: "<file>", min: 1, max: 1, group: groupAuth,
			summary: "set the certificate from a PEM file (key, certs)",
			help: "The file's text is stored as it is. Every certificate in it is trusted as a CA. A file without any PEM " +
				"block is refused; one that Go nodes cannot use (see auth.LoadBundle) is stored with a warning.",
			run: setCert},
		{name: "delcert", group: groupAuth, summary: "remove the certificate (inherit it again)", run: del("cert")},

		{name: "setseeds", aliases: []string{"seeds"}, args: "<host:port>,...", min: 1, max: 1, group: groupSeeds,
			summary: "set the seeds (comma-separated or JSON array)",
			run:     setList("seeds", "seed addresses", checkAddress)},
		{name: "delseeds", group: groupSeeds, summary: "remove the seed list (inherit it again)", run: del("seeds")},
		{name: "addseed", args: "<host:port>", min: 1, max: 1, group: groupSeeds,
			summary: "add a seed (last, once)", run: addEntry("seeds", true, checkAddress)},
		{name: "delseed", args: "<host:port>", min: 1, max: 1, group: groupSeeds,
			summary: "remove a seed", run: delEntry("seeds", true)},

		{name: "setbinds", aliases: []string{"binds"}, args: "<host:port>,...", min: 1, max: 1, group: groupBinds,
			summary: "set the binds (comma-separated or JSON array)",
			help:    `"*" as host means all local addresses; "*" or no port means a free port.`,
			run:     setList("binds", "bind addresses", checkAddress)},
		{name: "delbinds", group: groupBinds, summary: "remove the bind list (inherit it again)", run: del("binds")},
		{name: "addbind", args: "<host:port>", min: 1, max: 1, group: groupBinds,
			summary: "add a bind address (last, once)", run: addEntry("binds", true, checkAddress)},
		{name: "delbind", args: "<host:port>", min: 1, max: 1, group: groupBinds,
			summary: "remove a bind address", run: delEntry("binds", true)},

		{name: "setservices", aliases: []string{"services"}, args: "<initfunc>,...", min: 1, max: 1, group: groupServices,
			summary: "set the services (comma-separated or JSON array)",
			help: `A string ending in "::" is a module to load, any other string a function to call; ` +
				`a JSON array ["func", args...] calls func with the arguments: aemp setservices '[["mymod::myfun", 1, 2]]'.`,
			run: setList("services", "service specifications", checkService)},
		{name: "delservices", group: groupServices, summary: "remove the service list (inherit it again)", run: del("services")},
		{name: "addservice", args: "<initfunc>", min: 1, max: 1, group: groupServices,
			summary: "add a service (another instance if listed)",
			run:     addEntry("services", false, checkService)},
		{name: "delservice", args: "<initfunc>", min: 1, max: 1, group: groupServices,
			summary: "remove the first instance of a service", run: delEntry("services", false)},
		{name: "seteval", args: "<perl>", min: 1, max: 1, group: groupServices,
			summary: "set Perl code run at the end of configure",
			help:    `It has no alias: "eval" is the protocol command.`,
			run:     setString("eval", "eval string", nil)},
		{name: "deleval", group: groupServices, summary: "remove the eval snippet", run: del("eval")},

		{name: "profile", args: "<name>", min: 1, max: 1, group: groupProfiles,
			summary: "edit that profile from here on (made if missing)",
			help:    "Without it, subcommands edit the global defaults (the file's top level), which every profile inherits.",
			run:     selectProfile},
		{name: "delprofile", args: "<name>", min: 1, max: 1, group: groupProfiles, summary: "delete a profile", run: delProfile},
		{name: "setparent", aliases: []string{"parent"}, args: "<name>", min: 1, max: 1, group: groupProfiles,
			summary: "set the profile the current one inherits from",
			run:     setString("parent", "profile name", nil)},
		{name: "delparent", group: groupProfiles, summary: "remove the parent (inherit the global defaults)", run: del("parent")},
		{name: "showprofile", args: "<name>", min: 1, max: 1, group: groupProfiles,
			summary: "print a profile's own values as JSON", run: showProfile},
		{name: "showconfig", args: "[<name> [<key> <value>]...]", max: -1, group: groupProfiles,
			summary: "print a profile's effective configuration (JSON)",
			help: "The configuration a Perl node started with that profile would use: the built-in defaults, the " +
				"key/value pairs given, the file's top level, then the profile's parent chain. \"norc 1\" leaves the " +
				"file out, \"force 1\" makes the pairs and defaults win over the file, as in configure. " +
				"The profile and parent keys are not shown; keys are sorted.",
			run: showConfig},
	}
	commands = append(commands, lowLevelCommands()...)
	commands = append(commands, protocolCommands()...)
	commands = append(commands, &command{name: "help", args: "[<subcommand>]", max: -1, group: groupHelp,
		summary: "list the subcommands, or show one's usage", run: showHelp})
}

// lookup finds a subcommand by name or alias.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// session is the state of one aemp run.
type session struct {
	stdout, stderr io.Writer
	file           *rcfile.File // loaded on first use
	// profile is the profile the set/del subcommands edit (after
	// `profile <name>`); inProfile false means the top level.
	profile   string
	inProfile bool
}

// runWords decodes the command line and runs its subcommands in order.
func (s *session) runWords(words []string) error {
	if len(words) == 0 {
		fmt.Fprint(s.stderr, usageLine)
		return usagef("no subcommand given (try aemp --help)")
	}
	args, err := decodeArgs(words)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("the argument array is empty: no subcommand given")
	}
	for len(args) > 0 {
		if args[0].isHelpFlag() {
			writeOverview(s.stdout)
			return errHelpShown
		}
		name := args[0].str()
		c := lookup(name)
		if c == nil {
			return usagef("%s: no such subcommand (try aemp --help)", abbrev(name))
		}
		rest := args[1:]
		if len(rest) > 0 && rest[0].isHelpFlag() {
			writeCommandHelp(s.stdout, c)
			return errHelpShown
		}
		n := c.max
		if n < 0 || n > len(rest) {
			n = len(rest)
		}
		if n < c.min {
			return usagef("%s: missing argument (usage: aemp %s)", name, synopsis(c))
		}
		if err := c.run(s, rest[:n]); err != nil {
			var usage *usageError
			if errors.As(err, &usage) {
				return usagef("%s: %v (usage: aemp %s)", name, err, synopsis(c))
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		args = rest[n:]
	}
	return nil
}

// config returns the configuration file, loading it on first use.
func (s *session) config() (*rcfile.File, error) {
	if s.file != nil {
		return s.file, nil
	}
	path, err := rcfile.Path()
	if err != nil {
		return nil, err
	}
	if s.file, err = rcfile.Load(path); err != nil {
		return nil, err
	}
	return s.file, nil
}

// target returns the object the set/del subcommands edit: the selected
// profile, or the top level.
func (s *session) target() (*rcfile.Value, error) {
	f, err := s.config()
	if err != nil {
		return nil, err
	}
	if !s.inProfile {
		return f.Root, nil
	}
	p, err := rcfile.Profile(f.Root, s.profile, false)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("profile %q was deleted earlier on this command line; select a profile again", s.profile)
	}
	return p, nil
}

// save writes the configuration file if a subcommand changed it.
func (s *session) save() error {
	if s.file == nil {
		return nil
	}
	_, err := s.file.Save()
	return err
}

// protocolCommands are the subcommands that talk to a mesh (spec §7.3).
// Each runs a temporary node (ID aemp/%n/%u, the "aemp" profile's seeds,
// secret or cert; it listens nowhere) for as long as it takes.
func protocolCommands() []*command {
	return []*command{
		{name: "snd", args: "[-timeout <d>] <port> <arg>...", min: 1, max: -1, group: groupMessages,
			summary: "send a message and wait until its node has it",
			help: "The message is the arguments (a plain word is a string, JSON stays JSON). Then the port's node " +
				`is asked to relay "message sent successfully" back: it does so once it has the message (one FIFO per pair ` +
				"of nodes), and aemp prints it. The port is monitored: if it dies first, aemp prints its kill reason and " +
				"exits 1." + timeoutHelp,
			run: sndCmd},
		{name: "cal", args: "[-timeout <d>] <port> <arg>...", min: 1, max: -1, group: groupMessages,
			summary: "send a message with a reply port and print the reply",
			help: "As AnyEvent::MP's cal: the reply port's ID is appended to the message; the reply is printed as JSON " +
				"without the outer brackets. The port is monitored while aemp waits." + timeoutHelp,
			run: calCmd},
		{name: "mon", args: "<port>", min: 1, max: -1, group: groupMessages,
			summary: "wait until a port dies and print its kill reason",
			help: "The reason is printed as a JSON array ([] for a normal kill; a lost link gives " +
				`["transport_error", node, text]). It waits until then; SIGINT or SIGTERM ends it with exit 1.`,
			run: monCmd},
		{name: "eval", args: "[-timeout <d>] <node> <expr>...", min: 2, max: -1, group: groupMessages,
			summary: "evaluate Perl code on a Perl node and print the results",
			help: "The words are joined with spaces and sent as [\"\", \"eval\", <expr>, <reply port>]. Go nodes do not " +
				"evaluate code: against one, aemp says so and exits 1 (it asks the node with \"can eval\" first)." + timeoutHelp,
			run: evalCmd},

		{name: "nodes", args: "[-timeout <d>]", max: -1, group: groupMesh,
			summary: "list the nodes the global database knows",
			help: "One line per node: its ID, the addresses it listens on (family 'l), and \"master\" (the seed aemp " +
				"asked) or \"global\" (family 'g)." + timeoutHelp,
			run: nodesCmd},
		{name: "db", args: "[-timeout <d>] [-watch] <family>", min: 1, max: -1, group: groupMesh,
			summary: "print a family of the global database",
			help: "Without -watch: the family as a JSON object. With -watch: one line per key as it is added, changed " +
				"or deleted (add <key> <value>, change <key> <value>, del <key>; the key as a JSON string), the current " +
				"keys first, until SIGINT or SIGTERM (exit 0).",
			run: dbCmd},
		{name: "stats", args: "[-timeout <d>] <node>", min: 1, max: -1, group: groupMesh,
			summary: "print a Go node's statistics (JSON)",
			help: "Links, ports, registry and monitors, as the node's Stats: the aemp::stats node request, which only " +
				"aemp for Go nodes answer." + timeoutHelp,
			run: statsCmd},
		{name: "trace", args: "[-timeout <d>] <node>", min: 1, max: -1, group: groupMesh,
			summary: "print the connection graph, starting at a node",
			help: "Each node found is asked for the nodes it has links to (Go nodes with aemp::stats, Perl nodes with " +
				"eval of AnyEvent::MP::Kernel::up_nodes), one line each: <node> -> <peer>, .... aemp's own node is " +
				"left out. -timeout (default 15s) bounds each node's answer; a node that gives none is shown with " +
				"the reason, and the exit code is 1.",
			run: traceCmd},
		{name: "bench", args: "[-n <N>] [-inflight <K>] [-size <B>] <port|node>", min: 1, max: -1, group: groupMesh,
			summary: "measure round trips to an echo port or a node",
			help: "To a port: [\"ping\", <reply port>, seq, <B bytes>], answered by an echo port with [\"pong\", seq, " +
				"...] (examples/ping -listen runs one). To a node ID: its time request, which every AEMP node serves. " +
				"N round trips (default 10000), K at a time (default 1), after one that sets up the links; prints " +
				"msgs/s and the round-trip times (min, p50, p90, p99, max). -timeout (default 1m) bounds the run.",
			run: benchCmd},

		{name: "run", args: "[<profile> [<key> <value>]...]", max: -1, group: groupRun,
			summary: "run a node configured from a profile until SIGINT/SIGTERM",
			help: "The profile (default: the host name) and the pairs given configure the node as Perl's configure " +
				"would; it prints its node ID and addresses. A node that binds one of its seed addresses is a seed " +
				"(global); the service AnyEvent::MP::Global:: makes any node global. Other services are not " +
				"supported by Go nodes yet (aemp says which it skips). SIGINT or SIGTERM shuts the node down " +
				"gracefully (queued messages are written, for up to 10s); exit 0.",
			run: runCmd},
	}
}
