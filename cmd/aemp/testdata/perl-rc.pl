#!/usr/bin/perl
# Writes perl-rc.json as AnyEvent::MP::Config::save writes the config file
# (JSON::XS->new->pretty->utf8->encode, then "\n"), with the layout of spec
# §7.1, values as `aemp set…` stores them (strings unless given as JSON) and
# keys aemp does not know. Run: perl perl-rc.pl cert.pem key.pem > perl-rc.json
# (cert.pem/key.pem as `aemp gencert` makes them with openssl req). The key
# order is Perl's hash order, so every run gives another order. The key in
# the committed perl-rc.json was made for this fixture only.
use strict;
use JSON::XS;

local $/;
open my $c, "<", $ARGV[0] or die; my $cert = <$c>;
open my $k, "<", $ARGV[1] or die; my $key  = <$k>;

my %CFG = (
   version => 1,
   secret  => "Q0dmc2ebVbK4fiHQEt8M1bk1mJm4AuFhhIBsuJ0uxnqYyGM6vUw8ON8uS0cpb7XIi3jmBc1cgNQy2wh6oypRdqYkwCYPu4hsn7G4nATmROHkSxS3UF5Uu7Q0mJZfBSHw8GnIwnDAQ2Ro7Aq38rZc8bd7NYjW1lPpK6qYXcBWYQjX3MTaKnNo",
   seeds   => ["10.0.0.19:4040", "10.0.0.20:4040"],
   monitor_timeout => "10",
   nodelay => "0",
   framing_format => ["json", "cbor"],
   x_site  => { rack => 7, weight => 1.5, on => JSON::XS::true, off => JSON::XS::false, none => undef, "caf\x{e9}" => "\x{263a} tab\there /slash \"q\" \\b" },
   profile => {
      seed   => { binds => ["*:4040"] },
      doomed => { parent => "server", nodeid => "doomed", services => ["AnyEvent::MP::Global::", ["mymod::myfun", 1, 2, 3]] },
      server => { cert => "$cert$key", secure => "1", binds => [] },
      empty  => {},
   },
);

print JSON::XS->new->pretty->utf8->encode (\%CFG) . "\n";
