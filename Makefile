# beiand — GNU make.  `make help` lists the targets.

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR  ?= /etc
LIBEXECDIR  ?= $(PREFIX)/libexec/beiand
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR      ?= $(PREFIX)/share/man
CC       ?= gcc
# the one version: the first line of debian/changelog
VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
B        ?= build
PKGS      = libxml-2.0 libarchive sqlite3 libcurl gnutls libidn2 libpsl libsodium libsystemd zlib liblzma libmicrohttpd libseccomp
# the drivers of the tests, benchmarks and fuzzers link with the same
export BEIAND_PKGS = $(PKGS)

# Debian packages, listed once in debian/control (read by debian/deps):
# `make run` needs the build and run ones (and the demonstration's
# driver, python3), `make test` adds the test-only ones, `make deb` the
# packaging tools.
DEMO_DEBS = build-essential python3
DEBS_RUN  = $(DEMO_DEBS) $(shell sh debian/deps build) $(shell sh debian/deps run)
DEBS_TEST = $(DEBS_RUN) $(shell sh debian/deps test)
DEBS_DEB  = $(DEBS_RUN) $(shell sh debian/deps deb)

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wvla -Wpointer-arith -Wwrite-strings \
       -Wundef -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libetpan 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -letpan

CPPFLAGS += -Iinclude -I$(B)/gen -D_GNU_SOURCE
# where beiand, beianctl and beiand-web find beiand-worker and beiand-imap
# when none is beside them (lib/spawn.c)
CPPFLAGS += -DBEIAND_LIBEXECDIR=\"$(LIBEXECDIR)\"
CFLAGS   ?= -O2 -g
ALL_CFLAGS  = -std=c17 $(WARN) -pthread -fstack-protector-strong -fPIE $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread -pie -Wl,-z,relro -Wl,-z,now $(LDFLAGS)
ifeq ($(SAN),1)
ALL_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=address,undefined
# the workers' sandbox lets the sanitizers' own calls through (worker/worker_sandbox.c)
CPPFLAGS += -DBEIAND_SANITIZE
else
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif

# the parts, bottom first (docs/architecture.md); all but the programs'
# main files build into one library that the programs, tests and fuzzers link
PARTS     = lib parsers common store mail worker daemon ctl web
MAIN_SRC  = $(foreach p,$(PARTS),$(wildcard $(p)/main_*.c))
LIB_SRC   = $(filter-out $(MAIN_SRC),$(foreach p,$(PARTS),$(wildcard $(p)/*.c)))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/xsd_data.o $(B)/gen/templates_data.o
TEST_SRC  = $(wildcard tests/test_*.c) tests/unit_main.c
TEST_OBJ  = $(TEST_SRC:%.c=$(B)/%.o)
BINS      = $(B)/beiand $(B)/beianctl $(B)/beiand-web $(B)/beiand-worker $(B)/beiand-imap
XSD       = $(wildcard parsers/xsd/*.xsd)
TEMPLATES = $(wildcard mail/templates/*.txt)

.PHONY: print-version all deps deps-test deps-deb deb check-deb screenshots test unit asan fuzz bench install clean run help fixtures print-pkgs

all: $(BINS)

print-pkgs:
	@echo $(PKGS)

print-version:
	@echo $(VERSION)

help:
	@echo "make            build $(B)/beiand, $(B)/beianctl, $(B)/beiand-web and the helpers"
	@echo "make deps       install the missing Debian packages (build, run; deps-test, deps-deb)"
	@echo "make test       deps, build, fixtures, unit and integration tests"
	@echo "make asan       the test suite under -fsanitize=address,undefined"
	@echo "make fuzz       build the libFuzzer targets and run each briefly"
	@echo "make bench      throughput figures against a shell pipeline"
	@echo "make run        set up and run the daemon on the default config"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=..."
	@echo "make deb        the Debian package beiand_$(VERSION)_*.deb"
	@echo "make check-deb  build, install, purge the package (changes the system)"

# install-debs PACKAGES: those not yet installed (as root), or say how
define install-debs
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	  done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing Debian packages; run as root:"; \
	  echo "  apt-get update && apt-get install -y" $$missing; exit 1; \
	fi; \
	echo "installing:" $$missing; \
	echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing
endef

deps:
	$(call install-debs,$(DEBS_RUN))

deps-test:
	$(call install-debs,$(DEBS_TEST))

deps-deb:
	$(call install-debs,$(DEBS_DEB))

$(B)/libbeiand.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/beiand: $(B)/daemon/main_beiand.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/beianctl: $(B)/ctl/main_beianctl.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/beiand-web: $(B)/web/main_web.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/beiand-worker: $(B)/worker/main_worker.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/beiand-imap: $(B)/mail/main_imap.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/unit: $(TEST_OBJ) $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/gen/xsd_data.c: $(XSD) parsers/xsd/embed.sh
	@mkdir -p $(@D)
	sh parsers/xsd/embed.sh $(XSD) > $@.tmp && mv $@.tmp $@

$(B)/gen/templates_data.c: $(TEMPLATES) mail/templates/embed.sh
	@mkdir -p $(@D)
	sh mail/templates/embed.sh $(TEMPLATES) > $@.tmp && mv $@.tmp $@

# LIBEXECDIR is compiled into lib/spawn.c: a new value (make install
# PREFIX=/usr after a plain make) rebuilds it
$(B)/gen/libexecdir: FORCE
	@mkdir -p $(@D)
	@echo '$(LIBEXECDIR)' | cmp -s - $@ || echo '$(LIBEXECDIR)' >$@
$(B)/lib/spawn.o: $(B)/gen/libexecdir
FORCE:

$(B)/gen/%.o: $(B)/gen/%.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/lib/version.o: CPPFLAGS += -DBEIAND_VERSION='"$(VERSION)"'
$(B)/lib/version.o: debian/changelog

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAIN_SRC:%.c=$(B)/%.d)

fixtures: $(B)/fixtures/.stamp
$(B)/fixtures/.stamp: tests/mkfixtures.py tests/fxlib.py $(wildcard tests/fx_*.py) $(wildcard examples/*.xml)
	@rm -rf $(B)/fixtures
	/usr/bin/python3 tests/mkfixtures.py $(B)/fixtures
	@touch $@

unit: $(B)/unit $(B)/beiand-worker $(B)/beiand-imap fixtures
	BEIAND_FIXTURES=$(B)/fixtures $(B)/unit

test: deps-test
	$(MAKE) all $(B)/unit fixtures
	B=$(B) tests/run

asan:
	$(MAKE) B=build-asan SAN=1 test

FUZZ_TARGETS = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 20
fuzz: deps-test
	$(MAKE) B=build-fuzz CC=clang SAN=1 CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" build-fuzz/libbeiand.a fixtures
	B=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run $(FUZZ_TARGETS)

bench: deps-test
	$(MAKE) all fixtures
	B=$(B) bench/run

run: deps
	$(MAKE) all
	B=$(B) tests/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/beiand $(DESTDIR)$(PREFIX)/sbin/beiand
	install -m 0755 $(B)/beianctl $(DESTDIR)$(PREFIX)/bin/beianctl
	install -m 0755 $(B)/beiand-web $(DESTDIR)$(PREFIX)/sbin/beiand-web
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(B)/beiand-worker $(DESTDIR)$(LIBEXECDIR)/beiand-worker
	install -m 0755 $(B)/beiand-imap $(DESTDIR)$(LIBEXECDIR)/beiand-imap
	install -d $(DESTDIR)$(UNITDIR)
	for u in beiand beiand-web; do \
	  sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	      systemd/$$u.service > $(DESTDIR)$(UNITDIR)/$$u.service && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service; \
	done
	install -D -m 0644 systemd/beiand.sysusers $(DESTDIR)$(SYSUSERSDIR)/beiand.conf
	install -D -m 0644 systemd/beiand.tmpfiles $(DESTDIR)$(TMPFILESDIR)/beiand.conf
	install -D -m 0644 docs/man/beiand.8 $(DESTDIR)$(MANDIR)/man8/beiand.8
	install -D -m 0644 docs/man/beianctl.8 $(DESTDIR)$(MANDIR)/man8/beianctl.8
	install -D -m 0644 docs/man/beiand-web.8 $(DESTDIR)$(MANDIR)/man8/beiand-web.8
	install -D -m 0644 docs/man/beiand.conf.5 $(DESTDIR)$(MANDIR)/man5/beiand.conf.5
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/beiand
	@# never overwrite an administrator's configuration
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf ]; then \
	  sh docs/mkconf.sh /var/spool/beiand /var/lib/beiand <docs/beiand.conf.example \
	      >$(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf && \
	  chmod 0640 $(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf; \
	fi

# screenshots: docs/console-*.png, as tests/it_web.sh takes them
screenshots: all fixtures
	B=$(B) WEB_UPDATE_DOCS=1 sh tests/it_web.sh

# deb: the Debian package, beiand_$(VERSION)_<arch>.deb here (lintian's
# findings: debian/README.source)
deb: deps-deb
	dpkg-buildpackage -us -uc -b -Pnocheck
	mv ../beiand_$(VERSION)_*.deb .
	rm -f ../beiand_$(VERSION)_*.buildinfo ../beiand_$(VERSION)_*.changes

# check-deb: build, install, use, remove, purge and install again the
# package on this machine (it changes the system: not part of `make test`)
check-deb: deb deps-test
	sh tests/it_deb.sh beiand_$(VERSION)_*.deb

clean:
	rm -rf build build-asan build-fuzz build-deb
