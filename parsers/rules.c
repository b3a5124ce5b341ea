/*
 * rules: the field checks of FORMAT.md §3 and the provinces of §4.
 *
 * Every string here comes from a filing package, a mail or a bureau
 * decision and is hostile: it may be any length, any bytes, invalid
 * UTF-8.  Nothing is copied without a bound; no function reads past the
 * terminating NUL, uses a locale, reads a file or keeps state between
 * calls.  The one exception is the public-suffix context used by
 * rules_domain(): libpsl's built-in list is a static const table, and only
 * when this libpsl was built without one do we load the system list once
 * (rules_init(), thread-safe, meant to run before a worker is sandboxed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "lib/utf8.h"
#include "parsers/rules.h"

/* Domains and hosts longer than this are refused before any work. */
#define RULES_DOMAIN_INPUT_MAX 1024

/* ---------------------------------------------------------------- days */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long
day_to_days(int y, int m, int d)
{
	long yy = (long)y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long mp = (m + 9) % 12;
	long doy = (153 * mp + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static struct day
day_from_days(long z)
{
	struct day r;
	long era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	r.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	r.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	r.y = (int)(y + (r.m <= 2));
	return r;
}

struct day
day_cst(time_t t)
{
	long long s = (long long)t;
	long long days;

	/* Floor division so instants before 1970 land on the right day. */
	if (s > LLONG_MAX - 8 * 3600)
		s = LLONG_MAX - 8 * 3600;
	s += 8 * 3600;
	days = s / 86400;
	if (s % 86400 < 0)
		days--;
	return day_from_days((long)days);
}

int
day_valid(int y, int m, int d)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

static int
digits_value(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
day_parse(const char *s, struct day *out)
{
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (digits_value(s, 4, &y) == -1 || digits_value(s + 5, 2, &m) == -1 ||
	    digits_value(s + 8, 2, &d) == -1)
		return -1;
	if (!day_valid(y, m, d))
		return -1;
	out->y = y;
	out->m = m;
	out->d = d;
	return 0;
}

long
day_diff(struct day a, struct day b)
{
	return day_to_days(b.y, b.m, b.d) - day_to_days(a.y, a.m, a.d);
}

/* ----------------------------------------------------------- provinces */

static const struct {
	const char *code;
	const char *abbr;
	const char *alt; /* the bracketed alternative of §4, or NULL */
} provinces[] = {
	{ "11", "京", NULL }, { "12", "津", NULL }, { "13", "冀", NULL },
	{ "14", "晋", NULL }, { "15", "蒙", NULL }, { "21", "辽", NULL },
	{ "22", "吉", NULL }, { "23", "黑", NULL }, { "31", "沪", NULL },
	{ "32", "苏", NULL }, { "33", "浙", NULL }, { "34", "皖", NULL },
	{ "35", "闽", NULL }, { "36", "赣", NULL }, { "37", "鲁", NULL },
	{ "41", "豫", NULL }, { "42", "鄂", NULL }, { "43", "湘", NULL },
	{ "44", "粤", NULL }, { "45", "桂", NULL }, { "46", "琼", NULL },
	{ "50", "渝", NULL }, { "51", "蜀", "川" }, { "52", "黔", "贵" },
	{ "53", "滇", "云" }, { "54", "藏", NULL }, { "61", "陕", NULL },
	{ "62", "陇", "甘" }, { "63", "青", NULL }, { "64", "宁", NULL },
	{ "65", "新", NULL },
};
#define NPROVINCES (sizeof(provinces) / sizeof(provinces[0]))

const char *
rules_province_abbr(const char *code)
{
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < NPROVINCES; i++)
		if (strcmp(provinces[i].code, code) == 0)
			return provinces[i].abbr;
	return NULL;
}

const char *
rules_province_by_abbr(const char *abbr)
{
	size_t i;

	if (abbr == NULL)
		return NULL;
	for (i = 0; i < NPROVINCES; i++)
		if (strcmp(provinces[i].abbr, abbr) == 0 ||
		    (provinces[i].alt != NULL &&
		    strcmp(provinces[i].alt, abbr) == 0))
			return provinces[i].code;
	return NULL;
}

int
rules_province_valid(const char *code)
{
	return rules_province_abbr(code) != NULL;
}

/* ------------------------------------------------ certificate numbers */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
rules_resident_id(const char *s, struct day today, char norm[19])
{
	static const int w[17] = {
		7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
	};
	static const char checks[] = "10X98765432";
	char buf[19], prov[3];
	struct day birth;
	int i, sum = 0;

	if (s == NULL || strlen(s) != 18)
		return -1;
	for (i = 0; i < 17; i++) {
		if (!is_digit(s[i]))
			return -1;
		buf[i] = s[i];
		sum += (s[i] - '0') * w[i];
	}
	buf[17] = s[17] == 'x' ? 'X' : s[17];
	buf[18] = '\0';
	if (!is_digit(buf[17]) && buf[17] != 'X')
		return -1;

	prov[0] = buf[0];
	prov[1] = buf[1];
	prov[2] = '\0';
	if (!rules_province_valid(prov) && strcmp(prov, "81") != 0 &&
	    strcmp(prov, "82") != 0 && strcmp(prov, "83") != 0)
		return -1;

	if (digits_value(buf + 6, 4, &birth.y) == -1 ||
	    digits_value(buf + 10, 2, &birth.m) == -1 ||
	    digits_value(buf + 12, 2, &birth.d) == -1 ||
	    !day_valid(birth.y, birth.m, birth.d))
		return -1;
	if (day_diff((struct day){ 1900, 1, 1 }, birth) < 0 ||
	    day_diff(birth, today) < 0)
		return -1;

	if (checks[sum % 11] != buf[17])
		return -1;
	memcpy(norm, buf, sizeof(buf));
	return 0;
}

/* Value of an organization-code character: 0-9, A=10 … Z=35; -1 else. */
static int
orgcode_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

/* body: 8 characters; check: the check character. */
static int
orgcode_check(const char *body, int check)
{
	static const int w[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
	int i, v, sum = 0, c;

	for (i = 0; i < 8; i++) {
		if ((v = orgcode_value((unsigned char)body[i])) == -1)
			return -1;
		sum += v * w[i];
	}
	c = 11 - sum % 11;
	if (c == 10)
		c = 'X';
	else if (c == 11)
		c = '0';
	else
		c = '0' + c;
	return c == check ? 0 : -1;
}

int
rules_orgcode(const char *s)
{
	size_t len;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len == 9)
		return orgcode_check(s, (unsigned char)s[8]);
	if (len == 10 && s[8] == '-')
		return orgcode_check(s, (unsigned char)s[9]);
	return -1;
}

int
rules_uscc(const char *s)
{
	static const char set[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int w[17] = {
		1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
	};
	int i, sum = 0;

	if (s == NULL || strlen(s) != 18)
		return -1;
	for (i = 0; i < 18; i++)
		if (strchr(set, s[i]) == NULL)
			return -1;
	for (i = 2; i < 8; i++)
		if (!is_digit(s[i]))
			return -1;
	if (orgcode_check(s + 8, (unsigned char)s[16]) == -1)
		return -1;
	for (i = 0; i < 17; i++)
		sum += (int)(strchr(set, s[i]) - set) * w[i];
	return set[(31 - sum % 31) % 31] == s[17] ? 0 : -1;
}

/* -------------------------------------------------- phones and email */

int
rules_mobile(const char *s, char norm[12])
{
	char buf[32];
	const char *p;
	size_t n = 0;

	if (s == NULL)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if (n == sizeof(buf) - 1)
			return -1;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	p = buf;
	if (strncmp(p, "+86", 3) == 0)
		p += 3;
	else if (strncmp(p, "0086", 4) == 0)
		p += 4;
	if (strlen(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9')
		return -1;
	for (n = 2; n < 11; n++)
		if (!is_digit(p[n]))
			return -1;
	memcpy(norm, p, 12);
	return 0;
}

/* Count the digits at s, at most max + 1. */
static size_t
digit_run(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && is_digit(s[n]))
		n++;
	return n;
}

/*
 * ^0(10|2\d|[3-9]\d{2})-?[2-9]\d{6,7}(-\d{1,6})?$ by hand: the first
 * digit of the area code fixes its length, so no backtracking is needed.
 */
int
rules_landline(const char *s)
{
	size_t n;

	if (s == NULL || *s++ != '0')
		return -1;
	if (s[0] == '1') {
		if (s[1] != '0')
			return -1;
		s += 2;
	} else if (s[0] == '2') {
		if (!is_digit(s[1]))
			return -1;
		s += 2;
	} else if (s[0] >= '3' && s[0] <= '9') {
		if (!is_digit(s[1]) || !is_digit(s[2]))
			return -1;
		s += 3;
	} else
		return -1;
	if (*s == '-')
		s++;
	if (*s < '2' || *s > '9')
		return -1;
	s++;
	n = digit_run(s, 7);
	if (n != 6 && n != 7)
		return -1;
	s += n;
	if (*s == '\0')
		return 0;
	if (*s++ != '-')
		return -1;
	n = digit_run(s, 6);
	if (n < 1 || n > 6)
		return -1;
	return s[n] == '\0' ? 0 : -1;
}

/* RFC 5322 atext. */
static int
is_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int
rules_email(const char *s)
{
	char dom[256];
	const char *at, *p;
	size_t len, nlabels = 1;

	if (s == NULL || (len = strlen(s)) > 254)
		return -1;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return -1;
	if (at == s || at - s > 64)
		return -1;
	/* dot-atom: atext runs separated by single dots. */
	for (p = s; p < at; p++) {
		if (*p == '.') {
			if (p == s || p + 1 == at || p[1] == '.')
				return -1;
		} else if (!is_atext((unsigned char)*p))
			return -1;
	}
	for (p = at + 1; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			return -1; /* ASCII only; IDNs come as A-labels */
		if (*p == '.')
			nlabels++;
	}
	/* A trailing dot would be dropped by rule 7 but is no mail address. */
	if (p == at + 1 || p[-1] == '.' || nlabels < 2)
		return -1;
	if (rules_domain(at + 1, dom, sizeof(dom), 0) != DOMAIN_OK)
		return -1;
	return 0;
}

/* ------------------------------------------------------------- domains */

static const psl_ctx_t *rules_psl_ctx; /* set once by rules_psl_load */
static pthread_once_t rules_psl_once = PTHREAD_ONCE_INIT;

static void
rules_psl_load(void)
{
	const psl_ctx_t *ctx = psl_builtin();

	if (ctx != NULL && psl_suffix_count(ctx) > 0) {
		rules_psl_ctx = ctx;
		return;
	}
	/* Never freed: one list for the life of the process. */
	rules_psl_ctx = psl_latest(NULL);
}

int
rules_init(void)
{
	pthread_once(&rules_psl_once, rules_psl_load);
	return rules_psl_ctx != NULL ? 0 : -1;
}

/* A validated A-label "xn--…": it decodes and encodes back to itself. */
static int
domain_xn_label_valid(const char *label)
{
	char *u = NULL, *a = NULL;
	const char *p;
	int ok = 0, nonascii = 0;

	if (idn2_to_unicode_8z8z(label, &u, 0) != IDN2_OK)
		goto out;
	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			nonascii = 1;
	if (!nonascii)
		goto out;
	if (idn2_lookup_u8((const uint8_t *)u, (uint8_t **)&a,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
		goto out;
	ok = strcmp(a, label) == 0;
out:
	idn2_free(u);
	idn2_free(a);
	return ok;
}

/* Syntax of an ASCII, lower-cased domain without trailing dot. */
static int
domain_syntax_valid(const char *d)
{
	char label[64];
	const char *p = d, *end, *last = NULL;
	size_t n, i;
	int alldigits;

	if (*d == '\0' || strlen(d) > 253)
		return 0;
	for (;;) {
		end = strchr(p, '.');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n < 1 || n > 63)
			return 0;
		memcpy(label, p, n);
		label[n] = '\0';
		for (i = 0; i < n; i++)
			if (!((label[i] >= 'a' && label[i] <= 'z') ||
			    is_digit(label[i]) || label[i] == '-'))
				return 0;
		if (label[0] == '-' || label[n - 1] == '-')
			return 0;
		if (n >= 4 && label[2] == '-' && label[3] == '-') {
			if (strncmp(label, "xn", 2) != 0 ||
			    !domain_xn_label_valid(label))
				return 0;
		}
		last = p;
		if (end == NULL)
			break;
		p = end + 1;
	}
	/* An all-numeric top label is an IP address, not a name. */
	alldigits = 1;
	for (p = last; *p != '\0'; p++)
		if (!is_digit(*p))
			alldigits = 0;
	return !alldigits;
}

enum domain_result
rules_domain(const char *s, char *alabel, size_t alabel_size,
    int check_registrable)
{
	char buf[RULES_DOMAIN_INPUT_MAX + 1];
	char *conv = NULL;
	const char *d = buf, *reg;
	size_t len, i;
	int nonascii = 0, dropped = 0;
	enum domain_result res = DOMAIN_BAD;

	if (s == NULL || (len = strlen(s)) == 0 || len > RULES_DOMAIN_INPUT_MAX)
		return DOMAIN_BAD;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			nonascii = 1;
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	buf[len] = '\0';
	if (buf[len - 1] == '.') {
		buf[--len] = '\0';
		dropped = 1;
	}
	if (nonascii) {
		if (!utf8_valid(buf, len))
			return DOMAIN_BAD;
		if (idn2_lookup_u8((const uint8_t *)buf, (uint8_t **)&conv,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
			goto out;
		len = strlen(conv);
		/* An ideographic full stop at the end maps to a dot. */
		if (len > 0 && conv[len - 1] == '.' && !dropped)
			conv[--len] = '\0';
		d = conv;
	}
	if (!domain_syntax_valid(d))
		goto out;
	if (strlen(d) >= alabel_size)
		goto out;
	if (check_registrable) {
		res = DOMAIN_NOT_REGISTRABLE;
		if (strncmp(d, "www.", 4) == 0)
			goto out;
		if (rules_init() == -1)
			goto out; /* no list: fail closed */
		reg = psl_registrable_domain(rules_psl_ctx, d);
		if (reg != d)
			goto out;
	}
	memcpy(alabel, d, strlen(d) + 1);
	res = DOMAIN_OK;
out:
	idn2_free(conv);
	return res;
}

/* ------------------------------------------------------------- ASCII */

/* ASCII-only case folding: the C library's depends on the locale. */
static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ascii_casecmp(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return 1;
	return *a != *b;
}

static int
ascii_prefix_casecmp(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (ascii_lower((unsigned char)*s) != *prefix)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- names */

struct cp_range {
	uint32_t lo, hi;
};

/*
 * Letters of the scripts names in China are written in (Han, Latin,
 * Cyrillic, Greek, Arabic for Uyghur and Kazakh, Tibetan, Mongolian, Yi,
 * Lisu, Tai, Korean, Japanese) and of the other common scripts.  Digits,
 * punctuation and symbols of these blocks are left out.
 */
static const struct cp_range name_letters[] = {
	{ 0x0041, 0x005a }, { 0x0061, 0x007a }, { 0x00c0, 0x00d6 },
	{ 0x00d8, 0x00f6 }, { 0x00f8, 0x02af }, { 0x0386, 0x0386 },
	{ 0x0388, 0x038a }, { 0x038c, 0x038c }, { 0x038e, 0x03a1 },
	{ 0x03a3, 0x03f5 }, { 0x03f7, 0x0481 }, { 0x048a, 0x052f },
	{ 0x0531, 0x0556 }, { 0x0561, 0x0587 }, { 0x05d0, 0x05ea },
	{ 0x0620, 0x064a }, { 0x066e, 0x066f }, { 0x0671, 0x06d3 },
	{ 0x06d5, 0x06d5 }, { 0x06e5, 0x06e6 }, { 0x06ee, 0x06ef },
	{ 0x06fa, 0x06fc }, { 0x06ff, 0x06ff }, { 0x0750, 0x077f },
	{ 0x0e01, 0x0e30 }, { 0x0e32, 0x0e33 }, { 0x0e40, 0x0e46 },
	{ 0x0e81, 0x0eb0 }, { 0x0eb2, 0x0eb3 }, { 0x0ebd, 0x0ec6 },
	{ 0x0f40, 0x0f6c }, { 0x0f88, 0x0f8c }, { 0x10a0, 0x10fa },
	{ 0x10fc, 0x10ff }, { 0x1100, 0x11ff }, { 0x1820, 0x1878 },
	{ 0x1880, 0x18a8 }, { 0x18aa, 0x18aa }, { 0x1950, 0x196d },
	{ 0x1970, 0x1974 }, { 0x1980, 0x19ab }, { 0x19b0, 0x19c9 },
	{ 0x1e00, 0x1fbc }, { 0x1fc2, 0x1fcc }, { 0x1fd0, 0x1fdb },
	{ 0x1fe0, 0x1fec }, { 0x1ff2, 0x1ffc }, { 0x3005, 0x3007 },
	{ 0x3041, 0x3096 }, { 0x309d, 0x309f }, { 0x30a1, 0x30fa },
	{ 0x30fc, 0x30ff }, { 0x3105, 0x312f }, { 0x3131, 0x318e },
	{ 0x31f0, 0x31ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa48c }, { 0xa4d0, 0xa4fd }, { 0xac00, 0xd7a3 },
	{ 0xf900, 0xfaff }, { 0xff21, 0xff3a }, { 0xff41, 0xff5a },
	{ 0xff66, 0xff9d }, { 0xffa0, 0xffdc }, { 0x20000, 0x2fa1f },
	{ 0x30000, 0x323af },
};

/* Combining marks and joiners, accepted only after a letter. */
static const struct cp_range name_marks[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0487 }, { 0x0591, 0x05bd },
	{ 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 },
	{ 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x064b, 0x065f },
	{ 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0e31, 0x0e31 },
	{ 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e }, { 0x0eb1, 0x0eb1 },
	{ 0x0eb4, 0x0ebc }, { 0x0ec8, 0x0ecd }, { 0x0f71, 0x0f84 },
	{ 0x0f86, 0x0f87 }, { 0x0f8d, 0x0fbc }, { 0x0fc6, 0x0fc6 },
	{ 0x180b, 0x180d }, { 0x180f, 0x180f }, { 0x18a9, 0x18a9 },
	{ 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200c, 0x200d },
	{ 0x3099, 0x309a }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
	{ 0xe0100, 0xe01ef },
};

static int
cp_in(uint32_t cp, const struct cp_range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/*
 * Indic scripts (Devanagari … Malayalam, Sinhala): whole 128-point blocks
 * of letters and vowel signs, less their digits and the danda.
 */
static int
cp_indic(uint32_t cp)
{
	uint32_t off = cp & 0x7f;

	if (cp < 0x0900 || cp > 0x0dff)
		return 0;
	if (off >= 0x66 && off <= 0x6f)
		return 0;
	return cp != 0x0964 && cp != 0x0965 && cp != 0x0df4;
}

static int
cp_letter(uint32_t cp)
{
	return cp_in(cp, name_letters,
	    sizeof(name_letters) / sizeof(name_letters[0])) || cp_indic(cp);
}

static int
cp_mark(uint32_t cp)
{
	return cp_in(cp, name_marks,
	    sizeof(name_marks) / sizeof(name_marks[0]));
}

/*
 * Separators inside a name: space, the middle dot of FORMAT.md (U+00B7),
 * the katakana middle dot a Chinese IME often gives for it (U+30FB), and
 * the Tibetan tsheg that separates syllables of a Tibetan name (U+0F0B).
 */
static int
cp_name_separator(uint32_t cp)
{
	return cp == ' ' || cp == 0x00b7 || cp == 0x30fb || cp == 0x0f0b;
}

int
rules_person_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left, n;
	uint32_t cp;
	long count = 0;
	int letters = 0, after_letter = 0;

	if (s == NULL)
		return -1;
	left = strlen(s);
	while (left > 0) {
		if ((n = utf8_seq(p, left, &cp)) == 0)
			return -1;
		p += n;
		left -= n;
		if (++count > 50)
			return -1;
		if (cp_letter(cp)) {
			letters++;
			after_letter = 1;
		} else if (cp_mark(cp)) {
			if (!after_letter)
				return -1;
		} else if (cp_name_separator(cp))
			after_letter = 0;
		else
			return -1;
	}
	return letters > 0 ? 0 : -1;
}

/* ----------------------------------------------------------- site names */


int
rules_site_name(const char *name, const char *const *domains,
    size_t ndomains, int government)
{
	static const char *const reserved[] = {
		"中国", "中华", "中央", "全国", "国家", "人民", "人大",
	};
	char alabel[256];
	const unsigned char *p;
	const char *start;
	size_t left, n, i;
	uint32_t cp;
	long count = 0;
	int nonascii = 0, have_alabel;

	if (name == NULL)
		return -1;
	p = (const unsigned char *)name;
	left = strlen(name);
	while (left > 0) {
		if ((n = utf8_seq(p, left, &cp)) == 0)
			return -1;
		p += n;
		left -= n;
		if (++count > 50)
			return -1;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return -1;
		if (cp >= 0x80)
			nonascii = 1;
	}
	if (count < 2 || !nonascii)
		return -1;

	have_alabel = rules_domain(name, alabel, sizeof(alabel), 0) ==
	    DOMAIN_OK;
	for (i = 0; i < ndomains; i++) {
		if (domains[i] == NULL)
			continue;
		if (ascii_casecmp(name, domains[i]) == 0)
			return -1;
		if (have_alabel && strcmp(alabel, domains[i]) == 0)
			return -1;
	}

	if (!government) {
		/* Leading blanks do not hide a reserved prefix. */
		start = name;
		for (;;) {
			if (*start == ' ')
				start++;
			else if (strncmp(start, "\xe3\x80\x80", 3) == 0)
				start += 3;
			else
				break;
		}
		for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (strncmp(start, reserved[i], strlen(reserved[i])) == 0)
				return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ addresses */

static int
ip4_parse(const char *s, uint8_t out[4])
{
	int i, v;
	size_t n;

	for (i = 0; i < 4; i++) {
		n = digit_run(s, 3);
		if (n < 1 || n > 3 || (n > 1 && s[0] == '0'))
			return -1;
		if (digits_value(s, n, &v) == -1 || v > 255)
			return -1;
		out[i] = (uint8_t)v;
		s += n;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

int
rules_ip_parse(const char *s, struct ipaddr *out)
{
	struct ipaddr ip;

	if (s == NULL || strlen(s) > 45)
		return -1;
	memset(&ip, 0, sizeof(ip));
	if (strchr(s, ':') == NULL) {
		if (ip4_parse(s, ip.a) == -1)
			return -1;
		ip.family = 4;
	} else {
		if (inet_pton(AF_INET6, s, ip.a) != 1)
			return -1;
		ip.family = 6;
	}
	*out = ip;
	return 0;
}

void
rules_ip_format(const struct ipaddr *ip, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN];

	if (size == 0)
		return;
	buf[0] = '\0';
	if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->a, tmp,
	    sizeof(tmp)) == NULL)
		return;
	if (strlen(tmp) < size)
		memcpy(buf, tmp, strlen(tmp) + 1);
}

int
rules_ip_public(const struct ipaddr *ip)
{
	static const struct {
		uint8_t net[4];
		int len;
	} private4[] = {
		{ { 0, 0, 0, 0 }, 8 },	    { { 10, 0, 0, 0 }, 8 },
		{ { 100, 64, 0, 0 }, 10 },  { { 127, 0, 0, 0 }, 8 },
		{ { 169, 254, 0, 0 }, 16 }, { { 172, 16, 0, 0 }, 12 },
		{ { 192, 168, 0, 0 }, 16 }, { { 224, 0, 0, 0 }, 4 },
		{ { 240, 0, 0, 0 }, 4 },
	};
	uint32_t a, net, mask;
	size_t i;

	if (ip->family == 6)
		return (ip->a[0] & 0xe0) == 0x20;
	if (ip->family != 4)
		return 0;
	a = (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
	    (uint32_t)ip->a[2] << 8 | ip->a[3];
	for (i = 0; i < sizeof(private4) / sizeof(private4[0]); i++) {
		net = (uint32_t)private4[i].net[0] << 24 |
		    (uint32_t)private4[i].net[1] << 16;
		mask = 0xffffffffu << (32 - private4[i].len);
		if ((a & mask) == net)
			return 0;
	}
	return 1;
}

static size_t
ip_len(const struct ipaddr *ip)
{
	return ip->family == 4 ? 4 : 16;
}

int
rules_ip_range_size(const struct ipaddr *lo, const struct ipaddr *hi,
    uint64_t *count)
{
	uint64_t l[2] = { 0, 0 }, h[2] = { 0, 0 }, dhi, dlo;
	size_t n, i;

	if (lo->family != hi->family ||
	    (lo->family != 4 && lo->family != 6))
		return -1;
	n = ip_len(lo);
	if (memcmp(lo->a, hi->a, n) > 0)
		return -1;
	/* Big-endian bytes into two 64-bit halves. */
	for (i = 0; i < n; i++) {
		size_t k = n == 16 ? i / 8 : 1;

		l[k] = l[k] << 8 | lo->a[i];
		h[k] = h[k] << 8 | hi->a[i];
	}
	dhi = h[0] - l[0];
	dlo = h[1] - l[1];
	if (h[1] < l[1])
		dhi--; /* borrow; dhi >= 1 here as hi >= lo */
	if (dhi != 0 || dlo == UINT64_MAX)
		*count = UINT64_MAX;
	else
		*count = dlo + 1;
	return 0;
}

int
rules_cidr_parse(const char *s, struct ip_range *out)
{
	char addr[64];
	const char *slash;
	struct ipaddr ip;
	struct ip_range r;
	size_t n, i;
	int prefix, max, bits;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (rules_ip_parse(addr, &ip) == -1)
		return -1;
	max = ip.family == 4 ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		n = digit_run(slash + 1, 3);
		if (n < 1 || n > 3 || (n > 1 && slash[1] == '0') ||
		    slash[1 + n] != '\0')
			return -1;
		if (digits_value(slash + 1, n, &prefix) == -1 || prefix > max)
			return -1;
	}
	/* Host bits set ("203.0.113.7/24") are masked off, not refused. */
	r.lo = ip;
	r.hi = ip;
	for (i = 0; i < ip_len(&ip); i++) {
		bits = prefix - (int)i * 8;
		if (bits >= 8)
			continue;
		if (bits <= 0) {
			r.lo.a[i] = 0;
			r.hi.a[i] = 0xff;
		} else {
			uint8_t m = (uint8_t)(0xff << (8 - bits));

			r.lo.a[i] = ip.a[i] & m;
			r.hi.a[i] = (uint8_t)(ip.a[i] | (uint8_t)~m);
		}
	}
	*out = r;
	return 0;
}

int
rules_ip_in_range(const struct ipaddr *ip, const struct ip_range *r)
{
	size_t n;

	if (ip->family != r->lo.family || ip->family != r->hi.family)
		return 0;
	n = ip_len(ip);
	return memcmp(r->lo.a, ip->a, n) <= 0 && memcmp(ip->a, r->hi.a, n) <= 0;
}

/* ------------------------------------------------------------ home URLs */

int
rules_url_host(const char *url, char *host, size_t size)
{
	char buf[RULES_DOMAIN_INPUT_MAX + 1], out[256];
	const char *p, *end, *colon;
	size_t n;
	int port;

	if (url == NULL)
		return -1;
	p = url;
	if (ascii_prefix_casecmp(p, "http://") == 0)
		p += 7;
	else if (ascii_prefix_casecmp(p, "https://") == 0)
		p += 8;
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p);
	if (n == 0 || n > RULES_DOMAIN_INPUT_MAX)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* No userinfo, no IPv6 literal. */
	if (strchr(buf, '@') != NULL || buf[0] == '[')
		return -1;
	if ((colon = strchr(buf, ':')) != NULL) {
		n = strlen(colon + 1);
		if (n < 1 || n > 5 || colon[1] == '0' ||
		    digits_value(colon + 1, n, &port) == -1 || port > 65535)
			return -1;
		buf[colon - buf] = '\0';
	}
	if (rules_domain(buf, out, sizeof(out), 0) != DOMAIN_OK)
		return -1;
	if (strlen(out) >= size)
		return -1;
	memcpy(host, out, strlen(out) + 1);
	return 0;
}

int
rules_host_under(const char *host, const char *domain)
{
	size_t hl, dl;

	if (host == NULL || domain == NULL || *domain == '\0')
		return 0;
	hl = strlen(host);
	dl = strlen(domain);
	if (hl == dl)
		return strcmp(host, domain) == 0;
	if (hl < dl + 1)
		return 0;
	return host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0;
}
