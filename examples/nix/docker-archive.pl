# Writes an uncompressed docker-archive in the layout of nixpkgs'
# dockerTools.buildLayeredImage: one layer per store path of the closure, then
# a customisation layer with the root symlinks, `<sha256>/layer.tar` per layer,
# `<sha256>.json` config, manifest.json. Every tar is deterministic (sorted
# names, mtime 1, uid/gid 0, numeric owners) so the same closure always gives
# the same bytes. Core perl plus GNU tar from the host (through the sandbox).
use strict;
use warnings;
use JSON::PP;
use Digest::SHA;
use File::Path qw(make_path);
use File::Basename qw(dirname);

$ENV{PATH} = '/usr/bin:/bin';
# Nix writes .attrs.json into the build directory (the starting cwd); Nix 2.8
# sets NIX_ATTRS_JSON_FILE to its path outside the sandbox, so it comes second.
my $attrs_file = -e '.attrs.json' ? '.attrs.json' : $ENV{NIX_ATTRS_JSON_FILE};
open(my $in, '<', $attrs_file) or die "cannot read $attrs_file: $!";
my $attrs = JSON::PP->new->decode(do { local $/; <$in> });
close($in);

my @TAR = ('tar', '--create', '--format=gnu', '--sort=name', '--mtime=@1', '--owner=0', '--group=0', '--numeric-owner', '--hard-dereference');
my $work = "$ENV{NIX_BUILD_TOP}/image";
make_path($work);

sub run { system(@_) == 0 or die "command failed: @_\n"; }

sub sha256_file {
  my ($file) = @_;
  my $sha = Digest::SHA->new(256);
  $sha->addfile($file);
  return $sha->hexdigest;
}

# Moves a finished layer tar to <sha>/layer.tar and returns its sha256.
sub add_layer {
  my ($tar) = @_;
  my $sha = sha256_file($tar);
  make_path("$work/$sha");
  rename($tar, "$work/$sha/layer.tar") or die "rename $tar: $!";
  return $sha;
}

# The parent directories of every store layer, with fixed modes, so a layer
# does not depend on how the sandbox happened to create /nix/store.
my $parents = "$work/parents";
make_path("$parents/nix/store");
chmod(0755, "$parents/nix", "$parents/nix/store");

my @layers;
my @history;
my $created = $attrs->{created};

# One layer per store path, in a fixed order: by store path.
for my $p (sort map { $_->{path} } @{ $attrs->{closure} }) {
  (my $rel = $p) =~ s{^/}{};
  my $tar = "$work/layer.tmp";
  run(@TAR, "--file=$tar", '-C', $parents, '--no-recursion', 'nix', 'nix/store', '-C', '/', '--recursion', $rel);
  push @layers, add_layer($tar);
  push @history, { created => $created, comment => "store paths: ['$p']" };
}

# Customisation layer: the contents' top-level directories merged into / as
# symlinks (bin/hello -> /nix/store/...-hello/bin/hello), first root wins.
my $root = "$work/root";
make_path($root);
for my $r (@{ $attrs->{contents} }) {
  opendir(my $dh, $r) or next;
  for my $top (sort grep { !/^\.\.?$/ } readdir($dh)) {
    next unless -d "$r/$top";
    make_path("$root/$top");
    opendir(my $sub, "$r/$top") or die "$r/$top: $!";
    for my $f (sort grep { !/^\.\.?$/ } readdir($sub)) {
      symlink("$r/$top/$f", "$root/$top/$f") unless -e "$root/$top/$f" || -l "$root/$top/$f";
    }
    closedir($sub);
  }
  closedir($dh);
}
opendir(my $rd, $root) or die "$root: $!";
my @top = sort grep { !/^\.\.?$/ } readdir($rd);
closedir($rd);
run(@TAR, "--file=$work/layer.tmp", '-C', $root, @top ? @top : ('--files-from=/dev/null'));
push @layers, add_layer("$work/layer.tmp");
push @history, { created => $created, comment => 'customisation layer' };
run('rm', '-rf', $root, $parents);

my $config = {
  architecture => $attrs->{architecture},
  os           => 'linux',
  created      => $created,
  config       => $attrs->{imageConfig},
  rootfs       => { type => 'layers', diff_ids => [ map { "sha256:$_" } @layers ] },
  history      => \@history,
};
my $json = JSON::PP->new->canonical;
my $config_text = $json->encode($config);
my $config_sha = Digest::SHA::sha256_hex($config_text);
open(my $cf, '>', "$work/$config_sha.json") or die $!;
print $cf $config_text;
close($cf);

my $manifest = [ {
  Config   => "$config_sha.json",
  RepoTags => [ "$attrs->{imageName}:$attrs->{imageTag}" ],
  Layers   => [ map { "$_/layer.tar" } @layers ],
} ];
open(my $mf, '>', "$work/manifest.json") or die $!;
print $mf $json->encode($manifest);
close($mf);

run(@TAR, "--file=$attrs->{outputs}{out}", '-C', $work, '.');
