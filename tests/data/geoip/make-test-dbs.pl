#!/usr/bin/perl
# Writes the two tiny MaxMind-format databases the geoip unit tests read
# (documentation address ranges only, no real data): test-country.mmdb
# (GeoLite2-Country layout) and test-asn.mmdb (GeoLite2-ASN layout).
# Needs Debian's libmaxmind-db-writer-perl. Run from this directory:
#   perl make-test-dbs.pl
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (
    country                         => 'map',
    registered_country              => 'map',
    iso_code                        => 'utf8_string',
    autonomous_system_number        => 'uint32',
    autonomous_system_organization  => 'utf8_string',
);

sub write_db {
    my ($file, $type, $entries) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "meoktong test data ($type)" },
        remove_reserved_networks => 0,
        map_key_type_callback    => sub { $types{ $_[0] } },
    );
    $tree->insert_network(@$_) for @$entries;
    open my $fh, '>:raw', $file or die "$file: $!";
    $tree->write_tree($fh);
    close $fh;
}

write_db('test-country.mmdb', 'GeoLite2-Country', [
    ['192.0.2.0/24',    { country => { iso_code => 'KR' } }],
    ['198.51.100.0/24', { registered_country => { iso_code => 'CN' } }],
    ['2001:db8::/32',   { country => { iso_code => 'JP' } }],
]);
write_db('test-asn.mmdb', 'GeoLite2-ASN', [
    ['192.0.2.0/24',  { autonomous_system_number => 4766,
                        autonomous_system_organization => 'Test Telecom' }],
    ['2001:db8::/32', { autonomous_system_number => 2516 }],
]);
