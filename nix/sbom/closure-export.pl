# Reshapes the builder's .attrs.json into a ClosureExport document.
# Core perl only (JSON::PP), so it runs with nixpkgs' perl and with a host perl.
use strict;
use warnings;
use JSON::PP;

# Nix writes .attrs.json into the build directory (the starting cwd); Nix 2.8
# sets NIX_ATTRS_JSON_FILE to its path outside the sandbox, so it comes second.
my $attrs_file = -e '.attrs.json' ? '.attrs.json' : $ENV{NIX_ATTRS_JSON_FILE};
open(my $in, '<', $attrs_file) or die "cannot read $attrs_file: $!";
my $attrs = JSON::PP->new->decode(do { local $/; <$in> });
close($in);

my @paths = sort { $a->{path} cmp $b->{path} } map {
  {
    path       => $_->{path},
    references => [ sort @{ $_->{references} } ],
    narHash    => $_->{narHash},
    narSize    => $_->{narSize} + 0,
  }
} @{ $attrs->{closure} };

my @derivations = sort { ($a->{drvPath} // $a->{name}) cmp ($b->{drvPath} // $b->{name}) } @{ $attrs->{derivations} };

my $export = {
  version     => 1,
  image       => $attrs->{image},
  paths       => \@paths,
  derivations => \@derivations,
};

my $out = $attrs->{outputs}{out};
open(my $fh, '>', $out) or die "cannot write $out: $!";
print $fh JSON::PP->new->canonical->pretty->encode($export);
close($fh);
