/*
 * rules: the field checks of FORMAT.md §3 and the provinces of §4.
 *
 * Pure functions over strings.  Each returns 0 when the value is valid
 * and -1 when not; none allocates unless its contract says so.
 */
#ifndef BEIAND_RULES_H
#define BEIAND_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A civil date. */
struct day {
	int y, m, d;
};

/* Today in China Standard Time (UTC+8) at instant t. */
struct day day_cst(time_t t);
/* Parse "YYYY-MM-DD" (a real calendar date); -1 otherwise. */
int day_parse(const char *s, struct day *out);
/* Days from a to b (b - a). */
long day_diff(struct day a, struct day b);
int day_valid(int y, int m, int d);

/* §4: the abbreviation of a province code ("11" -> "京"), NULL if unknown. */
const char *rules_province_abbr(const char *code);
/* The code of an abbreviation, also the bracketed alternatives
 * ("川" -> "51"); NULL if unknown. */
const char *rules_province_by_abbr(const char *abbr);
/* 1 when code is one of the 31 province codes of §4. */
int rules_province_valid(const char *code);

/* §3.1 resident ID.  norm (19 bytes) receives the upper-cased form. */
int rules_resident_id(const char *s, struct day today, char norm[19]);
/* §3.2 unified social credit code. */
int rules_uscc(const char *s);
/* §3.3 organization code, "XXXXXXXXC" or "XXXXXXXX-C". */
int rules_orgcode(const char *s);
/* §3.4 mobile; norm (12 bytes) receives the 11 digits. */
int rules_mobile(const char *s, char norm[12]);
/* §3.5 landline. */
int rules_landline(const char *s);
/* §3.6 email. */
int rules_email(const char *s);

/*
 * Load the public-suffix list rules_domain() needs (libpsl's built-in
 * list, else the system one, loaded once for the process).  Call it before
 * a worker is sandboxed; later calls are free.  -1 when there is no list:
 * rules_domain() then answers DOMAIN_NOT_REGISTRABLE for every name that
 * needs the check.
 */
int rules_init(void);

enum domain_result { DOMAIN_OK, DOMAIN_BAD, DOMAIN_NOT_REGISTRABLE };
/*
 * §3.7: normalise a domain (lower case, one trailing dot dropped, U-labels
 * to A-labels by IDNA 2008) into alabel (size alabel_size, 254 is enough)
 * and check its syntax and that it is registrable (exactly one label above
 * a public suffix).  DOMAIN_BAD leaves alabel unspecified.
 * check_registrable=0 checks syntax only (hosts of URLs, email domains).
 * A name whose first label is "www" is never registrable (§1).  A top
 * label of digits only is DOMAIN_BAD (an IP address, not a name).
 */
enum domain_result rules_domain(const char *s, char *alabel, size_t alabel_size,
    int check_registrable);

/* §3.8 site name; domains are the site's domains as A-labels.
 * government: the sponsor's nature is "government". */
int rules_site_name(const char *name, const char *const *domains,
    size_t ndomains, int government);

/* Person names: 1–50 characters, letters of any script, '·' and spaces.
 * At least one letter; combining marks only after a letter; U+30FB (the
 * katakana middle dot IMEs give for '·') and the Tibetan tsheg U+0F0B are
 * accepted as separators too.  No digits, no other punctuation. */
int rules_person_name(const char *s);
/* §3.9 addresses. */
struct ipaddr {
	int family; /* 4 or 6 */
	uint8_t a[16];  /* IPv4 in a[0..3] */
};
struct ip_range {
	struct ipaddr lo, hi; /* inclusive, same family */
};

/* Parse a dotted quad (no leading zeros) or an IPv6 address. */
int rules_ip_parse(const char *s, struct ipaddr *out);
/* RFC 5952 text form into buf (46 bytes is enough). */
void rules_ip_format(const struct ipaddr *ip, char *buf, size_t size);
/* 1 when the address is public by §3.9. */
int rules_ip_public(const struct ipaddr *ip);
/* -1 when lo > hi or families differ; else the number of addresses,
 * saturated at UINT64_MAX. */
int rules_ip_range_size(const struct ipaddr *lo, const struct ipaddr *hi,
    uint64_t *count);
/* Parse "a.b.c.d/n" or "x::/n" (a bare address is /32 or /128).  Host
 * bits set below the prefix are masked off: "203.0.113.7/24" is the /24. */
int rules_cidr_parse(const char *s, struct ip_range *out);
/* 1 when ip lies within r. */
int rules_ip_in_range(const struct ipaddr *ip, const struct ip_range *r);

/*
 * The host of a home URL ("https://www.example.cn:8080/x"), lower-cased
 * and as A-label, into host.  -1 when no host can be taken.
 */
int rules_url_host(const char *url, char *host, size_t size);
/* 1 when host equals domain or lies below it on a label boundary. */
int rules_host_under(const char *host, const char *domain);

#endif
