#!/usr/bin/perl
# diag-match.pl MESSAGES < FORMATS: FORMATS holds "WHERE<TAB>FORMAT" lines
# (diag-formats.pl); MESSAGES is a file of error messages, one a line.
# Prints the FORMAT lines no message matches.  printf conversions match
# any text; C escapes stand for the character they name.
use strict;
use warnings;

open my $fh, '<', $ARGV[0] or die "$ARGV[0]: $!\n";
chomp(my @msgs = <$fh>);

sub fmt_re {
	my ($fmt) = @_;
	my $re = '';
	while (length $fmt) {
		if ($fmt =~ s/^%%//) {
			$re .= '%';
		} elsif ($fmt =~ s/^%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t)?[diouxXcsp]//) {
			$re .= '.*';
		} elsif ($fmt =~ s/^\\(.)//) {
			$re .= quotemeta($1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1);
		} else {
			$fmt =~ s/^(.)//s;
			$re .= quotemeta($1);
		}
	}
	return qr/^$re$/s;
}

while (my $l = <STDIN>) {
	chomp $l;
	my ($where, $fmt) = split /\t/, $l, 2;
	my $re = fmt_re($fmt);
	print "$l\n" unless grep { $_ =~ $re } @msgs;
}
