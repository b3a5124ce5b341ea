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
B        ?= build
PKGS      = libxml-2.0 libarchive sqlite3 libcurl gnutls libidn2 libpsl libsodium libsystemd zlib liblzma libseccomp
# the drivers of the tests, benchmarks and fuzzers link with the same
export BEIAND_PKGS = $(PKGS)

# Debian packages the build, the tests and `make run` need.
DEBS = build-essential pkg-config clang libclang-rt-14-dev \
       libxml2-dev libxml2-utils libarchive-dev libarchive-tools \
       libsqlite3-dev sqlite3 libcurl4-gnutls-dev libgnutls28-dev zlib1g-dev liblzma-dev libetpan-dev libidn2-dev \
       libpsl-dev publicsuffix libsodium-dev libsystemd-dev libseccomp-dev \
       python3 python3-pil python3-prometheus-client zip unzip xz-utils curl \
       openssh-server openssh-client dovecot-imapd dovecot-lmtpd postfix getmail6 \
       openssl iproute2 procps systemd groff-base acl

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
PARTS     = lib parsers common store mail worker daemon ctl
MAIN_SRC  = $(foreach p,$(PARTS),$(wildcard $(p)/main_*.c))
LIB_SRC   = $(filter-out $(MAIN_SRC),$(foreach p,$(PARTS),$(wildcard $(p)/*.c)))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/xsd_data.o $(B)/gen/templates_data.o
TEST_SRC  = $(wildcard tests/test_*.c) tests/unit_main.c
TEST_OBJ  = $(TEST_SRC:%.c=$(B)/%.o)
BINS      = $(B)/beiand $(B)/beianctl $(B)/beiand-worker $(B)/beiand-imap
XSD       = $(wildcard parsers/xsd/*.xsd)
TEMPLATES = $(wildcard mail/templates/*.txt)

.PHONY: all deps test unit asan fuzz bench install clean run help fixtures print-pkgs

all: $(BINS)

print-pkgs:
	@echo $(PKGS)

help:
	@echo "make            build $(B)/beiand, $(B)/beianctl and their helpers"
	@echo "make deps       install the missing Debian packages"
	@echo "make test       deps, build, fixtures, unit and integration tests"
	@echo "make asan       the test suite under -fsanitize=address,undefined"
	@echo "make fuzz       build the libFuzzer targets and run each briefly"
	@echo "make bench      throughput figures against a shell pipeline"
	@echo "make run        set up and run the daemon on the default config"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=..."

deps:
	@missing=$$(for p in $(DEBS); do \
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

$(B)/libbeiand.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/beiand: $(B)/daemon/main_beiand.o $(B)/libbeiand.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/beianctl: $(B)/ctl/main_beianctl.o $(B)/libbeiand.a
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

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAIN_SRC:%.c=$(B)/%.d)

fixtures: $(B)/fixtures/.stamp
$(B)/fixtures/.stamp: tests/mkfixtures.py tests/fxlib.py $(wildcard tests/fx_*.py) $(wildcard examples/*.xml)
	@rm -rf $(B)/fixtures
	/usr/bin/python3 tests/mkfixtures.py $(B)/fixtures
	@touch $@

unit: $(B)/unit $(B)/beiand-worker $(B)/beiand-imap fixtures
	BEIAND_FIXTURES=$(B)/fixtures $(B)/unit

test: deps
	$(MAKE) all $(B)/unit fixtures
	B=$(B) tests/run

asan:
	$(MAKE) B=build-asan SAN=1 test

FUZZ_TARGETS = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 20
fuzz: deps
	$(MAKE) B=build-fuzz CC=clang SAN=1 CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" build-fuzz/libbeiand.a fixtures
	B=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run $(FUZZ_TARGETS)

bench: deps
	$(MAKE) all fixtures
	B=$(B) bench/run

run: deps
	$(MAKE) all
	B=$(B) tests/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/beiand $(DESTDIR)$(PREFIX)/sbin/beiand
	install -m 0755 $(B)/beianctl $(DESTDIR)$(PREFIX)/bin/beianctl
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(B)/beiand-worker $(DESTDIR)$(LIBEXECDIR)/beiand-worker
	install -m 0755 $(B)/beiand-imap $(DESTDIR)$(LIBEXECDIR)/beiand-imap
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/beiand.service > $(DESTDIR)$(UNITDIR)/beiand.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/beiand.service
	install -D -m 0644 systemd/beiand.sysusers $(DESTDIR)$(SYSUSERSDIR)/beiand.conf
	install -D -m 0644 systemd/beiand.tmpfiles $(DESTDIR)$(TMPFILESDIR)/beiand.conf
	install -D -m 0644 docs/man/beiand.8 $(DESTDIR)$(MANDIR)/man8/beiand.8
	install -D -m 0644 docs/man/beianctl.8 $(DESTDIR)$(MANDIR)/man8/beianctl.8
	install -D -m 0644 docs/man/beiand.conf.5 $(DESTDIR)$(MANDIR)/man5/beiand.conf.5
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/beiand
	@# never overwrite an administrator's configuration
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf ]; then \
	  sed -e 's|^spool_dir\( *\)= spool  *;|spool_dir\1= /var/spool/beiand ;|' \
	      -e 's|^state_dir\( *\)= var  *;|state_dir\1= /var/lib/beiand ;|' \
	      docs/beiand.conf.example > $(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf && \
	  chmod 0640 $(DESTDIR)$(SYSCONFDIR)/beiand/beiand.conf; \
	fi

clean:
	rm -rf build build-asan build-fuzz
