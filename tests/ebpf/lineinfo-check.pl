#!/usr/bin/perl
# lineinfo-check.pl GENERATED.ebpf.c < RECORDS: checks an eBPF object's BTF
# line info (tests/ebpf/lineinfo's "SECTION FUNC INSN FILE LINE" records)
# against the .ks sources it names.  Prints one line per wrong record and
# exits 1 if there is any.  A record is right when:
#  - it names a .ks line inside a `fn` of that file, and that line holds code
#    (not blank, a comment or a lone brace: C's numbering drifting past a
#    statement lands there);
#  - a function named like a .ks fn (a program, a helper) starts on that
#    fn's lines;
#  - it names the generated file only inside a generated inline helper (a
#    ksc runtime function inlined at a .ks call), never in a program, a
#    loop callback or a struct_ops wrapper, whose code all has a .ks line.
# Line 0 (compiler-made code with no position) names nothing and passes.
use strict;
use warnings;

my $gen = shift or die "usage: lineinfo-check.pl GENERATED.ebpf.c < RECORDS\n";
my (%fns, %src, @bad);

# The lines of FILE, and its fns as [name, first, last].
sub load_ks {
	my ($file) = @_;
	return if $src{$file};
	open(my $fh, '<', $file) or die "$file: $!\n";
	my @lines = <$fh>;
	$src{$file} = \@lines;
	my @fns;
	for (my $i = 0; $i < @lines; $i++) {
		next unless $lines[$i] =~ /\bfn\s+(\w+)\s*\(/;
		my ($name, $depth, $opened) = ($1, 0, 0);
		for (my $j = $i; $j < @lines; $j++) {
			my $l = $lines[$j];
			$l =~ s{"(\\.|[^"\\])*"}{""}g;
			$l =~ s{'(\\.|[^'\\])*'}{''}g;
			$l =~ s{//.*}{};
			for my $c (split //, $l) {
				$depth++, $opened = 1 if $c eq '{';
				$depth-- if $c eq '}';
			}
			# An extern declaration has no body: no range.
			last if !$opened && $l =~ /\)\s*(->\s*[^{]*)?$/ && $j > $i;
			if ($opened && $depth == 0) {
				push @fns, [$name, $i + 1, $j + 1];
				last;
			}
		}
	}
	$fns{$file} = \@fns;
}

sub fn_at {
	my ($file, $line) = @_;
	for my $f (@{$fns{$file}}) {
		return $f if $line >= $f->[1] && $line <= $f->[2];
	}
	return undef;
}

# The generated file's C definitions: line => header of the one it is in.
open(my $gh, '<', $gen) or die "$gen: $!\n";
my @gl = <$gh>;
my (@owner, $header, $in);
for (my $i = 0; $i < @gl; $i++) {
	my $l = $gl[$i];
	if (!$in && $l =~ /^[A-Za-z_]/ && $l !~ /^#/) {
		$header = $l;
	} elsif ($l =~ /^\{/) {
		$in = 1;
	} elsif ($l =~ /^\}/) {
		$in = 0;
	}
	$owner[$i + 1] = $in ? $header : undef;
}

my %first;
while (<STDIN>) {
	my ($sec, $func, $insn, $file, $line) = split;
	next if !$line;
	my $where = "$sec/$func insn $insn";
	if ($file =~ /\.ks$/) {
		load_ks($file);
		my $f = fn_at($file, $line);
		my $text = $src{$file}[$line - 1] // '';
		if (!$f) {
			push @bad, "$where: $file:$line is outside every fn";
		} elsif ($text =~ m{^\s*(//.*)?$} || $text =~ /^\s*\}\s*$/) {
			chomp $text;
			push @bad, "$where: $file:$line holds no code: '$text'";
		}
		if (!exists $first{"$sec/$func"}) {
			$first{"$sec/$func"} = 1;
			for my $g (@{$fns{$file}}) {
				push @bad, "$where: starts at $file:$line, outside fn $func"
					if $g->[0] eq $func && !($line >= $g->[1] && $line <= $g->[2]);
			}
		}
	} elsif ($file =~ /\.ebpf\.c$/) {
		$first{"$sec/$func"} //= 1;
		my $h = $owner[$line];
		push @bad, "$where: generated line $line outside an inline helper: "
			. ($h ? $h : "(top level)")
			unless $h && $h =~ /^static (__always_)?inline\b/;
	} else {
		push @bad, "$where: names $file:$line";
	}
}
print "$_\n" for @bad;
exit(@bad ? 1 : 0);
