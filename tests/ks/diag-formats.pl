#!/usr/bin/perl
# diag-formats.pl SOURCE.c...: prints "FILE:LINE<TAB>FORMAT" for every
# diag_error() call, FORMAT being the call's string literal(s) as written
# in C (adjacent literals joined).  A call without a literal format prints
# an empty FORMAT, which t-coverage.sh reports.
use strict;
use warnings;

for my $f (@ARGV) {
	open my $fh, '<', $f or die "$f: $!\n";
	my $src = do { local $/; <$fh> };
	while ($src =~ /\bdiag_error\s*\(/g) {
		my $pos = pos($src);
		my $line = 1 + (substr($src, 0, $pos) =~ tr/\n//);
		my $rest = substr($src, $pos);
		next if $rest =~ /^\s*struct\s+diag\s*\*/;    # the definition
		my $fmt = '';
		# The format: the first string literals before the call's ';'.
		if ($rest =~ /^[^";]*?((?:"(?:[^"\\]|\\.)*"\s*)+)/s) {
			my $lits = $1;
			$fmt .= $1 while $lits =~ /"((?:[^"\\]|\\.)*)"/g;
		}
		print "$f:$line\t$fmt\n";
	}
}
