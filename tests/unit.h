/*
 * unit: a small table-friendly test harness.
 *
 * Each tests/test_*.c defines suites with UNIT_TEST(name) { ... }; they
 * register themselves and tests/unit_main.c runs them all (or those
 * whose name contains argv[1]) and ends with "N passed, N failed".
 * A check that fails prints file:line and the expression, and the test
 * goes on, so one run shows every broken case.
 */
#ifndef BEIAND_UNIT_H
#define BEIAND_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Directory of the generated fixtures (BEIAND_FIXTURES or tests/fixtures). */
const char *unit_fixtures(void);
/* Remove a folder and everything below it (test scratch space). */
void unit_rmtree(const char *dir);
/* Read a whole file into malloc'd memory; NULL on error. */
unsigned char *unit_read_file(const char *path, size_t *len);

#define UNIT_TEST(name)                                                        \
	static void unit_##name(void);                                         \
	__attribute__((constructor)) static void unit_reg_##name(void)         \
	{                                                                      \
		unit_register(#name, unit_##name);                             \
	}                                                                      \
	static void unit_##name(void)

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr))                                                   \
			unit_fail(__FILE__, __LINE__, "%s", #expr);            \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a != _b)                                                  \
			unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
			    #a, #b, _a, _b);                                   \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)           \
			unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
			    #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");   \
	} while (0)

/* Context for table rows: CHECKM(expr, "row %d", i). */
#define CHECKM(expr, ...)                                                      \
	do {                                                                   \
		if (!(expr)) {                                                 \
			char _m[512];                                          \
			snprintf(_m, sizeof(_m), __VA_ARGS__);                 \
			unit_fail(__FILE__, __LINE__, "%s [%s]", #expr, _m);   \
		}                                                              \
	} while (0)

#endif
