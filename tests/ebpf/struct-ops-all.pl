# struct-ops-all.pl STRUCT IMPL < C dump of the struct: a .ks impl with a method for
# every function-pointer member whose types KernelScript spells; the
# members left out go to stderr.
my ($struct, $impl) = @ARGV;
my %int = (u8 => 'u8', u16 => 'u16', u32 => 'u32', u64 => 'u64', s8 => 'i8', s16 => 'i16',
	   s32 => 'i32', s64 => 'i64', int => 'i32', bool => 'bool', void => 'void');
sub ks_type {
	my $t = shift;
	$t =~ s/\bconst\s+//g;
	$t =~ s/^\s+|\s+$//g;
	return $int{$t} if exists $int{$t};
	return "*$1" if $t =~ /^struct\s+(\w+)\s*\*$/;
	return undef;
}
print "\@struct_ops(\"$struct\")\nimpl $impl {\n";
while (<STDIN>) {
	next unless /^\t(.+?)\s*\(\*(\w+)\)\((.*)\);$/;
	my ($ret, $name, $params) = ($1, $2, $3);
	my $r = ks_type($ret);
	my @p;
	my $ok = defined $r;
	if ($params ne 'void') {
		my $i = 0;
		for my $q (split /,\s*/, $params) {
			my $t = ks_type($q);
			$ok &&= defined $t;
			push @p, 'a' . $i++ . ": $t" if defined $t;
		}
	}
	if (!$ok) { print STDERR "$name\n"; next; }
	my $body = $r eq 'void' ? '' : $r eq 'bool' ? "        return false\n" : "        return 0\n";
	print "    fn $name(" . join(', ', @p) . ") -> $r {\n$body    }\n";
}
print "    name: \"$impl\",\n}\n\nfn main() -> i32 {\n    return 0\n}\n";
